import * as z from 'zod';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * A callback URL: absolute, https (plain http only on loopback, for apps on the partner's
 * own machine), no fragment (RFC 6749 §3.1.2). Matched later by exact string comparison,
 * so what is registered is what must be sent.
 */
export const redirectUri = z
  .string()
  .max(2000)
  .superRefine((value, context) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      context.addIssue({ code: 'custom', message: 'not an absolute URL' });
      return;
    }
    if (url.hash !== '' || value.includes('#')) context.addIssue({ code: 'custom', message: 'a callback URL may not carry a fragment' });
    if (url.username || url.password) context.addIssue({ code: 'custom', message: 'a callback URL may not carry credentials' });
    const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
    if (url.protocol !== 'https:' && !loopback)
      context.addIssue({ code: 'custom', message: 'use https (http only for 127.0.0.1, [::1] or localhost)' });
  });
