import type { Pool } from 'pg';
import * as z from 'zod';
import { AppError } from '../errors';
import type { Platform } from '../platform';
import type { ChannelRoute } from '../ports/email-channel';
import { destinationPolicy, resolveDestination } from '../net/destination-guard';
import { withTransaction } from '../store/transaction';

const address = z.email().max(254);

/**
 * PUT /api/v1/settings/email. `platform`: the stack's own channel (SES in AWS, the SMTP sink
 * locally); `ses`: SES explicitly; `smtp`: the customer's relay (Postmark, SendGrid, SES
 * SMTP, their own). An SMTP password is write-only: omitted on a later PUT, the stored one stays.
 */
export const emailSettingsSchema = z
  .object({
    fromAddress: address,
    fromName: z.string().trim().min(1).max(200).nullish(),
    replyTo: address.nullish(),
    sendRatePerSecond: z.number().int().min(1).max(10_000).nullish(),
    channel: z.discriminatedUnion('type', [
      z.object({ type: z.literal('platform') }).strict(),
      z.object({ type: z.literal('ses') }).strict(),
      z
        .object({
          type: z.literal('smtp'),
          host: z.string().trim().min(1).max(253),
          port: z.number().int().min(1).max(65_535).default(587),
          security: z.enum(['tls', 'starttls', 'none']).default('starttls'),
          username: z.string().min(1).max(500).optional(),
          password: z.string().min(1).max(1000).optional(),
        })
        .strict(),
    ]),
  })
  .strict();
export type EmailSettingsInput = z.output<typeof emailSettingsSchema>;

/** What GET answers: never the password, only whether one is stored. */
export interface EmailSettingsView {
  readonly fromAddress: string;
  readonly fromName: string | null;
  readonly replyTo: string | null;
  readonly sendRatePerSecond: number;
  readonly sendRateIsDefault: boolean;
  readonly channel:
    | { readonly type: 'platform' | 'ses' }
    | {
        readonly type: 'smtp';
        readonly host: string;
        readonly port: number;
        readonly security: string;
        readonly username: string | null;
        readonly passwordSet: boolean;
      };
}

interface SettingsRow {
  from_address: string;
  from_name: string | null;
  reply_to: string | null;
  channel: 'platform' | 'ses' | 'smtp';
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_security: 'tls' | 'starttls' | 'none' | null;
  smtp_username: string | null;
  secret_ref: string | null;
  send_rate_per_second: number | null;
  updated_at: Date;
}

export class EmailSettingsNotFound extends AppError {
  constructor() {
    super('not_found', 'EMAIL_SETTINGS_NOT_FOUND', 'this account has no email settings; PUT /api/v1/settings/email sets them');
  }
}

function secretName(accountId: number): string {
  return `email/${accountId}/smtp`;
}

async function readRow(db: Pool, accountId: number): Promise<SettingsRow | undefined> {
  const { rows } = await db.query<SettingsRow>('SELECT * FROM email_settings WHERE account_id = $1', [accountId]);
  return rows[0];
}

function viewOf(platform: Platform, row: SettingsRow): EmailSettingsView {
  return {
    fromAddress: row.from_address,
    fromName: row.from_name,
    replyTo: row.reply_to,
    sendRatePerSecond: row.send_rate_per_second ?? platform.config.email.sendRatePerSecond,
    sendRateIsDefault: row.send_rate_per_second === null,
    channel:
      row.channel === 'smtp'
        ? {
            type: 'smtp',
            host: row.smtp_host ?? '',
            port: row.smtp_port ?? 587,
            security: row.smtp_security ?? 'starttls',
            username: row.smtp_username,
            passwordSet: row.secret_ref !== null,
          }
        : { type: row.channel },
  };
}

export async function getEmailSettings(platform: Platform, accountId: number): Promise<EmailSettingsView> {
  const row = await readRow(platform.db, accountId);
  if (!row) throw new EmailSettingsNotFound();
  return viewOf(platform, row);
}

/**
 * Saves the account's sender and channel. A relay host must be a public address in
 * production (the same guard as connectors: no probing of the platform's own network).
 * The SMTP password goes to the secret store inside the transaction, so a failed store
 * leaves the previous settings whole.
 */
export async function putEmailSettings(platform: Platform, accountId: number, input: EmailSettingsInput): Promise<EmailSettingsView> {
  const channel = input.channel;
  if (channel.type === 'smtp') await resolveDestination(channel.host, destinationPolicy(platform.config));
  await withTransaction(platform.db, async (client) => {
    const previous = (await client.query<SettingsRow>('SELECT * FROM email_settings WHERE account_id = $1 FOR UPDATE', [accountId])).rows[0];
    let secretRef: string | null = null;
    if (channel.type === 'smtp') {
      if (channel.password !== undefined) secretRef = await platform.secrets.put(secretName(accountId), channel.password);
      else secretRef = previous?.channel === 'smtp' && channel.username !== undefined ? previous.secret_ref : null;
      if (channel.username !== undefined && secretRef === null) {
        throw new AppError('invalid', 'SMTP_PASSWORD_REQUIRED', 'an SMTP user name needs its password (sent once; later PUTs may omit it)');
      }
    }
    await client.query(
      `INSERT INTO email_settings (account_id, from_address, from_name, reply_to, channel, smtp_host, smtp_port, smtp_security, smtp_username, secret_ref, send_rate_per_second, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())
       ON CONFLICT (account_id) DO UPDATE SET
         from_address = EXCLUDED.from_address, from_name = EXCLUDED.from_name, reply_to = EXCLUDED.reply_to, channel = EXCLUDED.channel,
         smtp_host = EXCLUDED.smtp_host, smtp_port = EXCLUDED.smtp_port, smtp_security = EXCLUDED.smtp_security,
         smtp_username = EXCLUDED.smtp_username, secret_ref = EXCLUDED.secret_ref, send_rate_per_second = EXCLUDED.send_rate_per_second, updated_at = now()`,
      [
        accountId,
        input.fromAddress,
        input.fromName ?? null,
        input.replyTo ?? null,
        channel.type,
        channel.type === 'smtp' ? channel.host : null,
        channel.type === 'smtp' ? channel.port : null,
        channel.type === 'smtp' ? channel.security : null,
        channel.type === 'smtp' ? (channel.username ?? null) : null,
        secretRef,
        input.sendRatePerSecond ?? null,
      ],
    );
    if (previous?.secret_ref && secretRef === null) await platform.secrets.delete(previous.secret_ref);
  });
  return getEmailSettings(platform, accountId);
}

/** How an account's sends leave: its sender, its channel and its rate. */
export interface SendingProfile {
  readonly from: { readonly address: string; readonly name?: string };
  readonly replyTo?: string;
  readonly route: ChannelRoute;
  readonly ratePerSecond: number;
}

/** The platform channel as the configuration names it. */
export function platformRoute(platform: Platform): ChannelRoute {
  const email = platform.config.email;
  if (email.channel === 'ses') return { kind: 'ses' };
  const url = new URL(email.smtpUrl ?? 'smtp://127.0.0.1:25');
  return {
    kind: 'smtp',
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
    security: url.protocol === 'smtps:' ? 'tls' : 'none',
    ...(url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
  };
}

/** How long a worker keeps a relay password before reading the secret store again. */
const PASSWORD_CACHE_MS = 5 * 60_000;
const passwords = new Map<string, { value: string; readAt: number }>();

/**
 * The relay password, read from the secret store once per settings version (a PUT changes
 * `updated_at`, so a new password is used at once) and at most every five minutes: every
 * send job of an account needs it, and Secrets Manager is a network call.
 */
async function relayPassword(platform: Platform, row: SettingsRow): Promise<string> {
  const key = `${row.secret_ref}@${row.updated_at.toISOString()}`;
  const cached = passwords.get(key);
  if (cached && Date.now() - cached.readAt < PASSWORD_CACHE_MS) return cached.value;
  const value = await platform.secrets.get(row.secret_ref ?? '');
  for (const earlier of passwords.keys()) if (earlier.startsWith(`${row.secret_ref}@`)) passwords.delete(earlier);
  passwords.set(key, { value, readAt: Date.now() });
  return value;
}

/** The account's profile, or the platform default's; undefined when no sender is known at all. */
export async function sendingProfile(platform: Platform, accountId: number): Promise<SendingProfile | undefined> {
  const row = await readRow(platform.db, accountId);
  const ratePerSecond = row?.send_rate_per_second ?? platform.config.email.sendRatePerSecond;
  if (!row) {
    const from = platform.config.email.defaultFrom;
    return from ? { from: { address: from }, route: platformRoute(platform), ratePerSecond } : undefined;
  }
  let route: ChannelRoute;
  if (row.channel === 'smtp') {
    route = {
      kind: 'smtp',
      host: row.smtp_host ?? '',
      port: row.smtp_port ?? 587,
      security: row.smtp_security ?? 'starttls',
      ...(row.smtp_username ? { username: row.smtp_username, password: row.secret_ref ? await relayPassword(platform, row) : '' } : {}),
    };
  } else route = row.channel === 'ses' ? { kind: 'ses' } : platformRoute(platform);
  return {
    from: { address: row.from_address, ...(row.from_name ? { name: row.from_name } : {}) },
    ...(row.reply_to ? { replyTo: row.reply_to } : {}),
    route,
    ratePerSecond,
  };
}
