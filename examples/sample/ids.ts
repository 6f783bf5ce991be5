/**
 * Stable AWS-shaped identifiers derived from names, so the inventory is the same for every seed
 * and scale (only traffic depends on the seed).
 */
import { createHash } from 'node:crypto';

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A 17-hex-digit resource id (the current AWS long-id shape) for a name.
 *
 * @example
 * awsId('sg', 'prod-alb-sg'); // 'sg-0' + 16 hex digits, always the same
 */
export function awsId(prefix: string, name: string): string {
  const key = `${prefix}:${name}`;
  let id = idCache.get(key);
  if (id === undefined) {
    id = `${prefix}-0${digest(key).slice(0, 16)}`;
    idCache.set(key, id);
  }
  return id;
}

// Ids are looked up for every flow record; hashing once per name keeps large scales fast.
const idCache = new Map<string, string>();

/** `length` hex digits derived from a name (load-balancer ids, file-name hashes). */
export function nameHex(name: string, length: number): string {
  return digest(name).slice(0, length);
}

/** A UUID-shaped string derived from a name (ECS attachments, Lambda ENI suffixes). */
export function nameUuid(name: string): string {
  const h = digest(`uuid:${name}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A locally administered MAC address derived from a name. */
export function nameMac(name: string): string {
  const h = digest(`mac:${name}`);
  return ['02', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10)].join(':');
}
