import { linkToken, signLink } from './link-signing';

/** The public paths of engagement tracking (routes in functions/api/routes/email.ts). */
export const TRACKING_PATHS = {
  open: '/t/open/{token}',
  click: '/t/click/{token}',
  unsubscribe: '/t/unsubscribe/{token}',
} as const;

export interface TrackedMessage {
  readonly html: string;
  readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The signed unsubscribe URL (also in List-Unsubscribe). */
  readonly unsubscribeUrl: string;
}

/** `href="http(s)://…"` of an anchor: only the message's own absolute web links are tracked. */
const ANCHOR_HREF = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;

/**
 * What goes out for one send: every http(s) link of the HTML is replaced by a signed
 * redirect to itself (so a click is CLICKED with the link), a signed 1×1 image records an
 * open (RECEIVED), and an unsubscribe link goes in the HTML, the text and the RFC 8058
 * headers. A link's signature covers its target, so the redirect goes nowhere else.
 */
export function trackMessage(baseUrl: string, key: Buffer, accountId: number, sendId: number, html: string, text: string): TrackedMessage {
  const base = baseUrl.replace(/\/$/, '');
  const path = (template: string, token: string) => `${base}${template.replace('{token}', token)}`;
  const clickUrl = (target: string): string => {
    const token = linkToken(accountId, sendId, signLink(key, 'click', sendId, target));
    return `${path(TRACKING_PATHS.click, token)}?url=${encodeURIComponent(target)}`;
  };
  const unsubscribeUrl = path(TRACKING_PATHS.unsubscribe, linkToken(accountId, sendId, signLink(key, 'unsubscribe', sendId)));
  const openUrl = path(TRACKING_PATHS.open, linkToken(accountId, sendId, signLink(key, 'open', sendId)));

  const rewritten = html.replace(ANCHOR_HREF, (_whole, prefix: string, quote: string, target: string) => {
    // The href is HTML: &amp; in it is & in the URL the reader's browser would open.
    const url = decodeHtmlEntities(target);
    return `${prefix}${quote}${escapeAttribute(clickUrl(url))}${quote}`;
  });
  const footer =
    `<p style="font-size:12px;color:#888">` +
    `<a href="${escapeAttribute(unsubscribeUrl)}">Unsubscribe</a></p>` +
    `<img src="${escapeAttribute(openUrl)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`;
  const trackedHtml = /<\/body>/i.test(rewritten) ? rewritten.replace(/<\/body>/i, `${footer}</body>`) : `${rewritten}${footer}`;
  return {
    html: trackedHtml,
    text: `${text}\n\n--\nUnsubscribe: ${unsubscribeUrl}\n`,
    headers: {
      'List-Unsubscribe': `<${unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    unsubscribeUrl,
  };
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function decodeHtmlEntities(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/**
 * The text part of a message that has no text template: the HTML's words, with each link's
 * target after its words, as mail clients that show text expect.
 */
export function textFromHtml(html: string): string {
  return decodeHtmlEntities(
    html
      .replace(/<(script|style|head)\b[\s\S]*?<\/\1>/gi, '')
      .replace(/<a\b[^>]*?\bhref\s*=\s*(["'])([^"']*)\1[^>]*>([\s\S]*?)<\/a>/gi, (_m, _q, href: string, words: string) => `${words} (${href})`)
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(p|div|h[1-6]|li|tr|table)>/gi, '\n')
      .replace(/<[^>]+>/g, '')
      .replace(/&nbsp;/g, ' '),
  )
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
