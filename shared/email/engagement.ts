import { recordActivities } from '../activities/record';
import { AppError } from '../errors';
import type { Platform } from '../platform';
import { linkKey, linkSignatureValid, parseLinkToken, type LinkPurpose } from './link-signing';
import { findSendOrigins, sendActivity, withLivingContacts, type SendOrigin } from './send-activities';
import { suppressAddress, suppressedAmong, normalizeAddress } from './suppressions';

export class TrackingLinkInvalid extends AppError {
  constructor() {
    super('not_found', 'TRACKING_LINK_INVALID', 'this link is not valid');
  }
}

/** Seed 000's clickEventLink is varchar(1000): a longer link is recorded cut there (the redirect keeps it whole). */
const MAX_LINK_CHARS = 1000;

/** The send a signed token names, once its signature checks out; a forged or altered token names none. */
async function verifiedSend(platform: Platform, token: string, purpose: LinkPurpose, target = ''): Promise<SendOrigin> {
  const parsed = parseLinkToken(token);
  if (!parsed) throw new TrackingLinkInvalid();
  const key = await linkKey(platform.db, parsed.accountId);
  if (!linkSignatureValid(key, purpose, parsed.sendId, parsed.signature, target)) throw new TrackingLinkInvalid();
  const [origin] = await findSendOrigins(platform.db, { accountId: parsed.accountId, sendIds: [parsed.sendId] });
  if (!origin) throw new TrackingLinkInvalid();
  return origin;
}

async function recordFor(platform: Platform, origin: SendOrigin, activity: Parameters<typeof sendActivity>[1]): Promise<void> {
  const living = await withLivingContacts(platform.db, [origin]);
  if (living.length === 0) return;
  await recordActivities(platform, origin.accountId, [sendActivity(origin, activity)]);
}

/** The pixel was loaded: RECEIVED (seed 001: the message was opened). */
export async function recordOpen(platform: Platform, token: string): Promise<void> {
  const origin = await verifiedSend(platform, token, 'open');
  await recordFor(platform, origin, { activityStatus: 'RECEIVED', activityDateTime: platform.clock.now() });
}

/**
 * A tracked link was followed: CLICKED with the link, and the target to redirect to. Only a
 * target whose signature was made for this send at send time is accepted, so the redirect
 * can never be pointed elsewhere (no open redirect).
 */
export async function recordClick(platform: Platform, token: string, target: string): Promise<string> {
  if (!/^https?:\/\//i.test(target)) throw new TrackingLinkInvalid();
  const origin = await verifiedSend(platform, token, 'click', target);
  await recordFor(platform, origin, {
    activityStatus: 'CLICKED',
    activityDateTime: platform.clock.now(),
    clickEventLink: target.slice(0, MAX_LINK_CHARS),
  });
  return target;
}

/** Whether the token is a valid unsubscribe link (the confirmation page shows only for one). */
export async function checkUnsubscribeLink(platform: Platform, token: string): Promise<{ address: string; alreadyUnsubscribed: boolean }> {
  const origin = await verifiedSend(platform, token, 'unsubscribe');
  const suppressed = await suppressedAmong(platform.db, origin.accountId, [origin.recipient]);
  return { address: origin.recipient, alreadyUnsubscribed: suppressed.get(normalizeAddress(origin.recipient)) === 'UNSUBSCRIBED' };
}

/**
 * One-click unsubscribe (RFC 8058's POST, or the page's button): the address is suppressed
 * for the account and UNSUBSCRIBED recorded, once; repeating it changes nothing.
 */
export async function unsubscribe(platform: Platform, token: string): Promise<{ address: string }> {
  const origin = await verifiedSend(platform, token, 'unsubscribe');
  const before = await suppressedAmong(platform.db, origin.accountId, [origin.recipient]);
  if (before.get(normalizeAddress(origin.recipient)) === 'UNSUBSCRIBED') return { address: origin.recipient };
  await suppressAddress(platform.db, origin.accountId, origin.recipient, 'UNSUBSCRIBED', { sendId: origin.sendId });
  await recordFor(platform, origin, { activityStatus: 'UNSUBSCRIBED', activityDateTime: platform.clock.now() });
  return { address: origin.recipient };
}
