/**
 * Alert messages composed from an AuditAlert, one form per channel: the e-mail summary (SNS) and
 * the Slack digest (Block Kit). Pure: the publishers in adapters/aws send them.
 */
export type { AlertForm, AlertHeadline, AlertOptions, AlertView } from './digest';
export { alertHeadline, alertView, headlineText } from './digest';
export type { EmailMessage, EmailOptions } from './email';
export {
  composeEmail,
  DEFAULT_EMAIL_MAX_BODY_BYTES,
  emailSubject,
  SNS_MESSAGE_MAX_BYTES,
  SNS_SUBJECT_MAX_CHARS,
} from './email';
export type { SlackBlock, SlackButton, SlackMessage, SlackOptions, SlackText } from './slack';
export {
  blockTextChars,
  composeSlack,
  DEFAULT_SLACK_TEXT_BUDGET,
  escapeMrkdwn,
  SLACK_HEADER_TEXT_MAX,
  SLACK_MAX_BLOCKS,
  SLACK_SECTION_TEXT_MAX,
  SLACK_TEXT_LIMIT,
} from './slack';
