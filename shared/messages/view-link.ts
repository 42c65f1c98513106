import { createHmac, timingSafeEqual } from 'node:crypto';
import { linkKey } from '../email/link-signing';
import { AppError } from '../errors';
import type { Platform } from '../platform';
import { getEmailMessage } from './messages';
import { publicBaseUrlOf } from '../config';
import { renderMessages } from './render-message';

/** The public path that serves a message's web version (route in functions/api/routes/instant-messages.ts). */
export const VIEW_PATH = '/view/{token}';
/** How long a view link works: long enough to share in a review, short enough that a leaked one dies. */
export const VIEW_LINK_TTL_SECONDS = 7 * 24 * 3600;

export class ViewLinkInvalid extends AppError {
  constructor() {
    super('not_found', 'VIEW_LINK_INVALID', 'this link is not valid or has expired');
  }
}

function signature(key: Buffer, messageId: number, expires: number, language: string): string {
  return createHmac('sha256', key).update(`view\n${messageId}\n${expires}\n${language}`).digest().subarray(0, 16).toString('base64url');
}

/**
 * messages/email/{id}/viewLink: a signed, expiring public URL of the message's web version
 * (in a language version, when given). Signed with the account's link key, so it cannot be
 * altered to show another message or live longer.
 */
export async function viewLink(
  platform: Platform,
  accountId: number,
  messageId: number,
  language?: string,
): Promise<{ viewLink: string; expires: string }> {
  await getEmailMessage(platform.db, accountId, messageId);
  const key = await linkKey(platform.db, accountId);
  const expires = Math.floor(platform.clock.now().getTime() / 1000) + VIEW_LINK_TTL_SECONDS;
  const lang = language ?? '-';
  const token = `${accountId}.${messageId}.${expires}.${lang}.${signature(key, messageId, expires, lang)}`;
  const base = publicBaseUrlOf(platform.config).replace(/\/$/, '');
  return { viewLink: `${base}${VIEW_PATH.replace('{token}', token)}`, expires: new Date(expires * 1000).toISOString() };
}

/** The web version a view link names, rendered for nobody in particular ($contact empty, $data empty). */
export async function renderViewLink(platform: Platform, token: string): Promise<string> {
  const match = /^(\d{1,15})\.(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_-]{1,20})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!match) throw new ViewLinkInvalid();
  const [, account, message, expiresText, lang, given] = match as unknown as [string, string, string, string, string, string];
  const accountId = Number(account);
  const messageId = Number(message);
  const expires = Number(expiresText);
  // The account's key is made on first use: a token naming an account that does not exist must not make one.
  const known = await platform.db.query('SELECT 1 FROM accounts WHERE id = $1', [accountId]);
  if (!known.rowCount) throw new ViewLinkInvalid();
  const key = await linkKey(platform.db, accountId);
  const expected = Buffer.from(signature(key, messageId, expires, lang));
  if (expected.length !== given.length || !timingSafeEqual(expected, Buffer.from(given))) throw new ViewLinkInvalid();
  if (platform.clock.now().getTime() / 1000 > expires) throw new ViewLinkInvalid();
  const found = await getEmailMessage(platform.db, accountId, messageId).catch(() => undefined);
  if (!found) throw new ViewLinkInvalid();
  const [rendered] = await renderMessages(
    found,
    [
      {
        contact: {
          id: 0,
          externalCustomerId: null,
          firstName: null,
          lastName: null,
          email: null,
          sms: null,
          languageCode: lang === '-' ? null : lang,
        },
        data: {},
      },
    ],
    platform.config,
  );
  return rendered?.ok ? rendered.htmlText : found.htmlText;
}
