import type { Pool } from 'pg';
import * as z from 'zod';
import { NotFound } from '../errors';
import { withTransaction } from '../store/transaction';
import { templateSyntaxError } from '../templates/render';
import { MessageNotFound, TemplateInvalid } from './errors';
import { getEmailMessage, type EmailMessage } from './messages';

/** A language code in a path: `uk`, `en`, `pt-BR`. */
export const languageCodeSchema = z.string().regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$/, 'a language code such as uk or pt-BR');

export const languageVersionSchema = z
  .object({
    subject: z.string().min(1).max(1000),
    htmlText: z.string().max(1_000_000),
    plainText: z.string().max(1_000_000).nullish(),
  })
  .strict();
export type LanguageVersionInput = z.output<typeof languageVersionSchema>;

export class LanguageVersionNotFound extends NotFound {
  constructor() {
    super('language version', 'LANGUAGE_VERSION_NOT_FOUND');
  }
}

/** PUT messages/email/{id}/{language}: adds or replaces one language version of a message. */
export async function putLanguageVersion(
  db: Pool,
  accountId: number,
  messageId: number,
  languageCode: string,
  input: LanguageVersionInput,
): Promise<EmailMessage> {
  const failures = (
    [
      ['body.subject', input.subject],
      ['body.htmlText', input.htmlText],
      ['body.plainText', input.plainText],
    ] as const
  ).flatMap(([path, source]) => {
    const error = source ? templateSyntaxError(source) : undefined;
    return error ? [{ path, error }] : [];
  });
  if (failures.length > 0) throw new TemplateInvalid(failures);
  await withTransaction(db, async (client) => {
    await lockMessage(client, accountId, messageId);
    await client.query(`DELETE FROM message_translations WHERE message_id = $1 AND lower(language_code) = lower($2)`, [messageId, languageCode]);
    await client.query(
      `INSERT INTO message_translations (message_id, account_id, language_code, subject, html_text, plain_text) VALUES ($1, $2, $3, $4, $5, $6)`,
      [messageId, accountId, languageCode, input.subject, input.htmlText, input.plainText ?? null],
    );
  });
  return getEmailMessage(db, accountId, messageId);
}

/** DELETE messages/email/{id}/{language}: the main version stays; a contact of that language gets it from then on. */
export async function deleteLanguageVersion(db: Pool, accountId: number, messageId: number, languageCode: string): Promise<void> {
  await withTransaction(db, async (client) => {
    await lockMessage(client, accountId, messageId);
    const { rowCount } = await client.query(`DELETE FROM message_translations WHERE message_id = $1 AND lower(language_code) = lower($2)`, [
      messageId,
      languageCode,
    ]);
    if (!rowCount) throw new LanguageVersionNotFound();
  });
}

async function lockMessage(client: Pick<Pool, 'query'>, accountId: number, messageId: number): Promise<void> {
  const { rowCount } = await client.query(
    `UPDATE messages SET updated_at = now() WHERE account_id = $1 AND id = $2 AND media_type = 'Email' AND deleted_at IS NULL`,
    [accountId, messageId],
  );
  if (!rowCount) throw new MessageNotFound();
}
