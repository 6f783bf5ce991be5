/**
 * The live rule-change source: CloudTrail LookupEvents over the last 90 days (what the event
 * history keeps), one paged scan per security-group event name (aws-facts.md "CloudTrail": one
 * lookup attribute per call, at most 50 events a page, about 2 requests per second per account
 * and region) — never one lookup per SG. Requests are spaced to the rate; throttling is retried
 * with capped exponential backoff and full jitter, on top of the SDK client's own retries. A scan
 * that fails — or is cut short by the caller's deadline (a Lambda's remaining time) — leaves the
 * history incomplete and says so: attribution then never calls a rule older than the history.
 */
import { type CloudTrailClient, type Event, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  type CloudTrailLookupEvent,
  type RuleChangeHistory,
  type RuleChangeSource,
  SG_CHANGE_EVENT_NAMES,
} from '../../shared/model/rule-change';
import { isThrottling } from './securityhub-exporter';
import { fullJitterDelay, type InjectedTiming, timingOf } from './timing';

/** CloudTrail's event history: management events of the last 90 days. */
export const EVENT_HISTORY_DAYS = 90;
/** LookupEvents returns at most 50 events a page. */
export const LOOKUP_PAGE_SIZE = 50;
/** About 2 requests per second per account and region: one every 500 ms. */
const MIN_INTERVAL_MS = 500;
const DEFAULT_MAX_ATTEMPTS = 6;
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 20_000;
/** A scan stops (and the history is incomplete) past this many pages of one event name. */
const DEFAULT_MAX_PAGES = 400;

export interface CloudTrailLookupOptions extends Pick<InjectedTiming, 'sleep' | 'random'> {
  readonly cloudtrail: Pick<CloudTrailClient, 'send'>;
  /** Attempts per page while CloudTrail throttles (the first call included). @default 6 */
  readonly maxAttempts?: number;
  /** Pages read per event name before giving up on completeness. @default 400 (20,000 events) */
  readonly maxPages?: number;
  /** Least time between two requests. @default 500 ms (2 per second) */
  readonly minIntervalMs?: number;
  /**
   * Milliseconds since the epoch (on `clock`) after which no request is started: the scans read
   * so far are kept and the history is incomplete, with a warning. @default none
   */
  readonly deadline?: number;
  /** Milliseconds since the epoch, for request spacing. @default Date.now */
  readonly clock?: () => number;
  readonly progress?: (message: string) => void;
}

/**
 * The whole of CloudTrail's event history up to `now`: the 90 days before it, in epoch seconds —
 * the period the live CLI and the deployed discover step read.
 *
 * @example eventHistoryPeriod(new Date('2026-11-21T00:00:00Z')) // { start: 1787443200, end: 1795219200 }
 */
export function eventHistoryPeriod(now: Date): { start: number; end: number } {
  const end = Math.floor(now.getTime() / 1000);
  return { start: end - EVENT_HISTORY_DAYS * 86_400, end };
}

/** The scan of one event name: its events, and why it stopped short when it did. */
interface Scan {
  readonly events: CloudTrailLookupEvent[];
  readonly stopped?: 'pages' | 'deadline';
  readonly pages: number;
}

/** An SDK Event as the AWS CLI prints it (EventTime as ISO text), so exports read back alike. */
function asLookupEvent(event: Event): CloudTrailLookupEvent {
  const { EventTime, ...rest } = event;
  return { ...rest, ...(EventTime instanceof Date ? { EventTime: EventTime.toISOString() } : {}) };
}

/**
 * Reads security-group changes from CloudTrail's event history.
 *
 * @example
 * const history = await new CloudTrailLookupSource({ cloudtrail }).read({ start, end });
 * history.events.length; // every SG change of the account and region in the period
 */
export class CloudTrailLookupSource implements RuleChangeSource {
  private readonly cloudtrail: Pick<CloudTrailClient, 'send'>;
  private readonly maxAttempts: number;
  private readonly maxPages: number;
  private readonly minIntervalMs: number;
  private readonly timing: Required<InjectedTiming>;
  private readonly clock: () => number;
  private readonly progress: (message: string) => void;
  private readonly deadline: number | undefined;
  private lastRequestAt: number | undefined;

  constructor(options: CloudTrailLookupOptions) {
    this.cloudtrail = options.cloudtrail;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.minIntervalMs = options.minIntervalMs ?? MIN_INTERVAL_MS;
    this.timing = timingOf(options);
    this.clock = options.clock ?? Date.now;
    this.progress = options.progress ?? (() => undefined);
    this.deadline = options.deadline;
  }

  /** Every SG change event in the period (epoch seconds), one paged scan per event name. */
  async read(period: { readonly start: number; readonly end: number }): Promise<RuleChangeHistory> {
    const events: CloudTrailLookupEvent[] = [];
    const warnings: string[] = [];
    let complete = true;
    for (const [index, eventName] of SG_CHANGE_EVENT_NAMES.entries()) {
      const rest = SG_CHANGE_EVENT_NAMES.slice(index + 1);
      try {
        const scan = await this.scan(eventName, period);
        events.push(...scan.events);
        if (scan.stopped === 'pages') {
          complete = false;
          warnings.push(
            `LookupEvents for ${eventName} stopped after ${this.maxPages} pages: older changes of that kind were not read`,
          );
        } else if (scan.stopped === 'deadline') {
          complete = false;
          warnings.push(
            scan.pages === 0
              ? `LookupEvents was not tried for ${[eventName, ...rest].join(', ')}: the time allowed for reading the history ran out`
              : `LookupEvents for ${eventName} stopped at the time allowed after ${scan.pages} pages: older changes of that kind were not read`,
          );
          if (scan.pages > 0 && rest.length > 0) {
            warnings.push(
              `LookupEvents was not tried for ${rest.join(', ')}: the time allowed for reading the history ran out`,
            );
          }
          break;
        }
      } catch (error) {
        complete = false;
        const name = error instanceof Error ? error.name : 'Error';
        // One line: an SDK deserialization error appends a hint on a second line.
        const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim();
        warnings.push(
          `LookupEvents for ${eventName} failed (${name}: ${message}): rules it may have changed are not attributed`,
        );
        // Denied or unavailable: the other event names would fail alike (throttling was retried).
        if (!isThrottling(error) && rest.length > 0) {
          warnings.push(`LookupEvents was not tried for ${rest.join(', ')} after that failure`);
          break;
        }
      }
    }
    this.progress(
      `CloudTrail: ${events.length} security-group change events since ${new Date(period.start * 1000).toISOString().slice(0, 10)}`,
    );
    return { source: 'cloudtrail-lookup', events, start: period.start, end: period.end, complete, warnings };
  }

  private async scan(
    eventName: string,
    period: { readonly start: number; readonly end: number },
  ): Promise<Scan> {
    const events: CloudTrailLookupEvent[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < this.maxPages; page += 1) {
      if (this.pastDeadline(this.minIntervalMs)) return { events, stopped: 'deadline', pages: page };
      const output = await this.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }],
          StartTime: new Date(period.start * 1000),
          EndTime: new Date(period.end * 1000),
          MaxResults: LOOKUP_PAGE_SIZE,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      events.push(...(output.Events ?? []).map(asLookupEvent));
      nextToken = output.NextToken;
      if (!nextToken) return { events, pages: page + 1 };
    }
    return { events, stopped: 'pages', pages: this.maxPages };
  }

  /** Whether waiting `ms` more would pass the deadline. */
  private pastDeadline(ms = 0): boolean {
    return this.deadline !== undefined && this.clock() + ms > this.deadline;
  }

  /** One request, spaced to the rate and retried while throttled. */
  private async send(command: LookupEventsCommand) {
    for (let attempt = 1; ; attempt += 1) {
      await this.pace();
      try {
        return await this.cloudtrail.send(command);
      } catch (error) {
        if (!isThrottling(error) || attempt >= this.maxAttempts) throw error;
        const delay = fullJitterDelay(attempt, this.timing.random, {
          baseMs: BASE_DELAY_MS,
          maxMs: MAX_DELAY_MS,
        });
        // A backoff past the deadline would only end in no request: fail the scan now.
        if (this.pastDeadline(delay)) throw error;
        await this.timing.sleep(delay);
      }
    }
  }

  private async pace(): Promise<void> {
    const now = this.clock();
    if (this.lastRequestAt !== undefined) {
      const wait = this.lastRequestAt + this.minIntervalMs - now;
      if (wait > 0) await this.timing.sleep(wait);
    }
    this.lastRequestAt = this.clock();
  }
}
