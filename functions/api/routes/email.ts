import * as z from 'zod';
import { NotFound } from '../../../shared/errors';
import { checkUnsubscribeLink, recordClick, recordOpen, unsubscribe } from '../../../shared/email/engagement';
import { emailSettingsSchema, getEmailSettings, putEmailSettings } from '../../../shared/email/settings';
import { deleteSuppression, listSuppressions } from '../../../shared/email/suppressions';
import { TRACKING_PATHS } from '../../../shared/email/tracking';
import { json, nothing, totalCountHeader } from '../../../shared/http/answers';
import { wholeNumberParameter } from '../../../shared/http/paging';
import { noContent, ok, route, type Reply, type Route } from '../../../shared/http/route';

/** The smallest transparent GIF: what the open pixel answers. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const token = z.object({ token: z.string().min(1).max(200) }).strict();
const clickQuery = z.object({ url: z.string().min(1).max(8000) }).strict();
const suppressionsQuery = z
  .object({
    startindex: wholeNumberParameter(1, 1_000_000).default(1),
    maxrows: wholeNumberParameter(1, 500).default(100),
    address: z.string().min(1).max(254).optional(),
  })
  .strict();
const addressParameter = z.object({ address: z.string().min(3).max(254) }).strict();
const mailboxQuery = z.object({ to: z.string().min(1).max(254).optional() }).strict();

function page(title: string, body: string): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body style="font-family:sans-serif;max-width:40em;margin:3em auto">${body}</body></html>`,
  };
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Email delivery: the account's sender settings and suppressions (account administration,
 * so `settings`), the public engagement links every email carries, and the local runtime's
 * mailbox.
 */
export const emailRoutes: readonly Route[] = [
  route({
    method: 'GET',
    path: '/api/v1/settings/email',
    access: 'settings',
    docs: {
      summary: "The account's email sender settings",
      description:
        "Sender address and name, reply-to, the channel (the platform's SES or the account's own SMTP relay) and the send rate; a relay password is never returned.",
      responses: { 200: json('The settings.', z.looseObject({})) },
    },
    handle: async ({ platform, principal }) => ok(await getEmailSettings(platform, principal.accountId)),
  }),
  route({
    method: 'PUT',
    path: '/api/v1/settings/email',
    access: 'settings',
    docs: {
      summary: "Set the account's email sender settings",
      description: "An SMTP relay's password goes to the secrets store and is never returned.",
      responses: { 200: json('The settings.', z.looseObject({})) },
    },
    body: emailSettingsSchema,
    handle: async ({ platform, principal, body }) => ok(await putEmailSettings(platform, principal.accountId, body)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/email/suppressions',
    access: 'settings',
    docs: {
      summary: 'Suppressed email addresses',
      description: 'Addresses later sends skip (unsubscribes, hard bounces, complaints), with why.',
      responses: { 200: { ...json('One page of suppressions.', z.object({ suppressions: z.array(z.looseObject({})) })), headers: totalCountHeader } },
    },
    query: suppressionsQuery,
    handle: async ({ platform, principal, query }) => {
      const { suppressions, total } = await listSuppressions(platform.db, principal.accountId, {
        startIndex: query.startindex,
        maxRows: query.maxrows,
        address: query.address,
      });
      return ok({ suppressions }, { TotalCount: String(total) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/email/suppressions/{address}',
    access: 'settings',
    docs: {
      summary: 'Lift a suppression',
      responses: { 204: nothing('Lifted; sends reach the address again.') },
      errors: { 404: ['SUPPRESSION_NOT_FOUND'] },
    },
    params: addressParameter,
    handle: async ({ platform, principal, params }) => {
      await deleteSuppression(platform.db, principal.accountId, params.address);
      return noContent();
    },
  }),
  // Seed 004's methods for the unsubscribed list (group 2, contactsWrite): the same suppressions.
  route({
    method: 'GET',
    path: TRACKING_PATHS.open,
    access: 'public',
    docs: {
      summary: 'Open pixel of a sent email (signed link)',
      description: 'Records RECEIVED for the send; answers a 1×1 GIF.',
      responses: { 200: { description: 'The pixel.', contentType: 'image/gif' } },
    },
    params: token,
    handle: async ({ platform, params }) => {
      await recordOpen(platform, params.token);
      return { status: 200, headers: { 'content-type': 'image/gif' }, body: PIXEL };
    },
  }),
  route({
    method: 'GET',
    path: TRACKING_PATHS.click,
    access: 'public',
    docs: {
      summary: 'Click link of a sent email (signed link)',
      description: "Records CLICKED and redirects to the message's own link; any other URL is refused.",
      responses: { 302: { description: 'To the link.' } },
    },
    params: token,
    query: clickQuery,
    handle: async ({ platform, params, query }) => ({ status: 302, headers: { location: await recordClick(platform, params.token, query.url) } }),
  }),
  route({
    method: 'GET',
    path: TRACKING_PATHS.unsubscribe,
    access: 'public',
    docs: {
      summary: 'Unsubscribe page of a sent email (signed link)',
      description: 'Shows a confirmation form: mail scanners follow links, so a GET changes nothing.',
      responses: { 200: { description: 'The page.', contentType: 'text/html' } },
    },
    params: token,
    // A GET never unsubscribes: mail scanners follow links; the page's button POSTs.
    handle: async ({ platform, params }) => {
      const link = await checkUnsubscribeLink(platform, params.token);
      if (link.alreadyUnsubscribed) return page('Unsubscribed', `<p>${escapeHtml(link.address)} is unsubscribed.</p>`);
      return page(
        'Unsubscribe',
        `<p>Stop sending email to <b>${escapeHtml(link.address)}</b>?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      );
    },
  }),
  route({
    method: 'POST',
    path: TRACKING_PATHS.unsubscribe,
    access: 'public',
    docs: {
      summary: 'One-click unsubscribe (RFC 8058)',
      description: 'Records UNSUBSCRIBED and suppresses the address for the account.',
      responses: { 200: { description: 'The confirmation page.', contentType: 'text/html' } },
    },
    params: token,
    // RFC 8058's one-click POST (form-encoded or multipart) or the page's form: the signed link is what counts.
    bodyFormat: 'raw',
    handle: async ({ platform, params }) => {
      const { address } = await unsubscribe(platform, params.token);
      return page('Unsubscribed', `<p>${escapeHtml(address)} is unsubscribed.</p>`);
    },
  }),
  route({
    method: 'GET',
    path: '/local/mailbox',
    access: 'public',
    docs: {
      summary: "The local SMTP sink's mailbox (npm start only)",
      description: 'What the local stack delivered, newest first: headers, HTML and text parts. Answers 404 on AWS.',
      responses: { 200: json('The messages (an HTML list for a browser).', z.unknown()) },
    },
    query: mailboxQuery,
    // Local runtime only: what the SMTP sink caught (JSON; a list page for a browser).
    handle: async ({ platform, query, headers }) => {
      const sink = platform.config.email.localMailboxUrl;
      if (!sink) throw new NotFound('mailbox', 'MAILBOX_NOT_LOCAL');
      const response = await fetch(`${sink}/messages${query.to ? `?to=${encodeURIComponent(query.to)}` : ''}`);
      const mailbox = (await response.json()) as {
        received: number;
        messages: { id: number; receivedAt: string; envelope: { to: string[] }; subject: string | null; html: string | null }[];
      };
      if (!(headers.accept ?? '').includes('text/html')) return ok(mailbox);
      const rows = mailbox.messages
        .map(
          (message) =>
            `<details><summary>${escapeHtml(message.receivedAt)} → ${escapeHtml(message.envelope.to.join(', '))}: <b>${escapeHtml(message.subject ?? '')}</b></summary>` +
            `<iframe sandbox style="width:100%;height:24em;border:1px solid #ccc" srcdoc="${escapeHtml(message.html ?? '')}"></iframe></details>`,
        )
        .join('');
      return page('Local mailbox', `<h1>Local mailbox</h1><p>${mailbox.received} received; the newest ${mailbox.messages.length} kept.</p>${rows}`);
    },
  }),
];
