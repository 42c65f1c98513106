import { readConfig } from '../../shared/config';
import { RateLimiter } from '../../shared/http/rate-limit';
import { parseBody } from '../../shared/http/request';
import { route, ok } from '../../shared/http/route';
import { Router } from '../../shared/http/router';
import { nextRunAfter } from '../../shared/schedules/expression';

describe('router', () => {
  const handle = async () => ok({});
  const router = new Router([
    route({ method: 'PUT', path: '/api/v1/contact/{id}', access: 'contactsWrite', handle }),
    route({ method: 'POST', path: '/api/v1/contact/subscribe', access: 'contactsWrite', handle }),
  ]);

  it('prefers a literal segment over a parameter', () => {
    expect(router.match('POST', '/api/v1/contact/subscribe').route.path).toBe('/api/v1/contact/subscribe');
  });

  it('decodes parameters', () => {
    expect(router.match('PUT', '/api/v1/contact/a%20b').params).toEqual({ id: 'a b' });
  });

  it('refuses a route declared twice', () => {
    expect(
      () =>
        new Router([route({ method: 'GET', path: '/x', access: 'public', handle }), route({ method: 'GET', path: '/x', access: 'public', handle })]),
    ).toThrow(/twice/);
  });
});

describe('schedule expressions', () => {
  it('aligns rates to the period', () => {
    expect(nextRunAfter('rate(15 minutes)', new Date('2026-01-01T10:07:00Z')).toISOString()).toBe('2026-01-01T10:15:00.000Z');
    expect(nextRunAfter('rate(1 hour)', new Date('2026-01-01T10:00:00Z')).toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });

  it('runs a daily cron at the next occurrence', () => {
    expect(nextRunAfter('cron(30 3 * * ? *)', new Date('2026-01-01T02:00:00Z')).toISOString()).toBe('2026-01-01T03:30:00.000Z');
    expect(nextRunAfter('cron(30 3 * * ? *)', new Date('2026-01-01T03:30:00Z')).toISOString()).toBe('2026-01-02T03:30:00.000Z');
  });

  it('refuses what it cannot schedule', () => {
    expect(() => nextRunAfter('rate(0 minutes)', new Date())).toThrow();
    expect(() => nextRunAfter('at(2026-01-01T00:00:00)', new Date())).toThrow();
  });
});

describe('rate limiter', () => {
  it('refills at the configured rate', () => {
    const limiter = new RateLimiter();
    limiter.take('a', 2, 0);
    limiter.take('a', 2, 0);
    expect(() => limiter.take('a', 2, 0)).toThrow();
    expect(() => limiter.take('a', 2, 500)).not.toThrow();
  });
});

describe('DNS_SERVERS', () => {
  const withServers = (value: string) =>
    readConfig({ SATELLITE_RUNTIME: 'local', SATELLITE_SECRETS_KEY: 'k', DATABASE_URL: 'postgres://x', DNS_SERVERS: value });

  it('takes IPv4 and IPv6 addresses, each with an optional port', () => {
    expect(withServers('127.0.0.1:5353, 10.0.0.2,[::1]:53, ::1').dnsServers).toEqual(['127.0.0.1:5353', '10.0.0.2', '[::1]:53', '::1']);
    expect(withServers('').dnsServers).toBeUndefined();
  });

  it.each(['resolver.example', '999.1.1.1', '1.2.3.4:0', '1.2.3.4:99999', '[::1]:70000', ':'])('refuses %s at start', (value) => {
    expect(() => withServers(value)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('request body', () => {
  // The gateway hands text bodies over as text, bytes (base64) as bytes; each format reads both alike.
  const text = '{"firstName":"Олена ✓","fields":[{"id":1,"value":"\u00e9"}]}';

  it('reads a JSON body the same from text and from its UTF-8 bytes', () => {
    expect(parseBody('json', 'application/json', text)).toEqual(parseBody('json', 'application/json', Buffer.from(text, 'utf8')));
    expect(parseBody('json', 'application/json', text)).toEqual({ firstName: 'Олена ✓', fields: [{ id: 1, value: 'é' }] });
  });

  it('still refuses bytes that are not UTF-8, and empty or malformed bodies either way', () => {
    expect(() => parseBody('json', 'application/json', Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(/UTF-8/);
    expect(() => parseBody('json', 'application/json', '')).toThrow(/JSON body is required/);
    expect(() => parseBody('json', 'application/json', '{"a":')).toThrow(/not valid JSON/);
  });

  it('gives a route that reads the body itself the bytes, and a form its fields', () => {
    expect(parseBody('raw', 'text/plain', 'é')).toEqual(Buffer.from('é', 'utf8'));
    expect(parseBody('form', 'application/x-www-form-urlencoded', 'grant_type=x&code=%C3%A9')).toEqual({ grant_type: 'x', code: 'é' });
  });
});
