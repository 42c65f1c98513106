import type { Pool, PoolClient } from 'pg';
import * as z from 'zod';
import { withTransaction } from '../store/transaction';
import { templateErrors, type RenderOptions } from '../templates/render-pool';
import { MessageNotFound, TemplateInvalid } from './errors';

/** A message's tags (a message, an instant email or text): at most 20 of 50 characters. */
export const messageTagsSchema = z.array(z.string().trim().min(1).max(50)).max(20);

/** The caller's id for an instant send, answered back with its results. */
export const externalRequestIdSchema = z.string().max(100);

/** An email message of an account: Velocity templates for subject and body, per language. */
export interface EmailMessageInput {
  readonly name: string;
  readonly from?: string | null;
  readonly replyTo?: string | null;
  readonly subject: string;
  readonly htmlText: string;
  readonly plainText?: string | null;
  readonly tags?: readonly string[];
  /** Language of the main version. */
  readonly languageCode?: string | null;
  /** The event param whose JSON becomes `$data` in triggered sends (`jsonParam`). */
  readonly jsonParamField?: string | null;
  readonly translations?: readonly MessageTranslation[];
}

export interface MessageTranslation {
  readonly languageCode: string;
  readonly subject: string;
  readonly htmlText: string;
  readonly plainText?: string | null;
}

export interface EmailMessage extends Required<Omit<EmailMessageInput, 'translations'>> {
  readonly id: number;
  readonly translations: readonly MessageTranslation[];
  readonly createdDate: string;
  readonly updatedDate: string;
}

interface MessageRow {
  id: number;
  name: string;
  sender: string | null;
  reply_to: string | null;
  subject: string | null;
  html_text: string;
  plain_text: string | null;
  tags: string[];
  language: string | null;
  json_param_field: string | null;
  created_at: Date;
  updated_at: Date;
}

interface TranslationRow {
  message_id: number;
  language_code: string;
  subject: string;
  html_text: string;
  plain_text: string | null;
}

/** `${jsonParam}` as the seed writes it in the email block's JSON field, or the bare name. */
export function jsonParamFieldName(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const bare = /^\$!?\{([A-Za-z_][\w-]*)\}$|^\$!?([A-Za-z_][\w-]*)$/.exec(value.trim());
  return bare ? (bare[1] ?? bare[2] ?? null) : value.trim() || null;
}

/** Every template of the message must parse (strictly, on the render threads, its time bounded). */
async function checkTemplates(input: EmailMessageInput, render: RenderOptions): Promise<void> {
  const fields: { path: string; source: string }[] = [];
  const field = (path: string, source: string | null | undefined): void => {
    if (source) fields.push({ path, source });
  };
  field('body.subject', input.subject);
  field('body.htmlText', input.htmlText);
  field('body.plainText', input.plainText);
  (input.translations ?? []).forEach((translation, index) => {
    field(`body.translations.${index}.subject`, translation.subject);
    field(`body.translations.${index}.htmlText`, translation.htmlText);
    field(`body.translations.${index}.plainText`, translation.plainText);
  });
  const errors = await templateErrors(
    fields.map(({ source }) => source),
    render,
  );
  const failures = fields.flatMap(({ path }, index) => {
    const error = errors[index];
    return error ? [{ path, error }] : [];
  });
  if (failures.length > 0) throw new TemplateInvalid(failures);
}

function toMessage(row: MessageRow, translations: readonly TranslationRow[]): EmailMessage {
  return {
    id: row.id,
    name: row.name,
    from: row.sender,
    replyTo: row.reply_to,
    subject: row.subject ?? '',
    htmlText: row.html_text,
    plainText: row.plain_text,
    tags: row.tags,
    languageCode: row.language,
    jsonParamField: row.json_param_field,
    translations: translations
      .filter((translation) => translation.message_id === row.id)
      .map((translation) => ({
        languageCode: translation.language_code,
        subject: translation.subject,
        htmlText: translation.html_text,
        plainText: translation.plain_text,
      })),
    createdDate: row.created_at.toISOString(),
    updatedDate: row.updated_at.toISOString(),
  };
}

const COLUMNS = 'id, name, sender, reply_to, subject, html_text, plain_text, tags, language, json_param_field, created_at, updated_at';

async function writeTranslations(
  client: PoolClient,
  accountId: number,
  messageId: number,
  translations: readonly MessageTranslation[],
): Promise<void> {
  await client.query('DELETE FROM message_translations WHERE message_id = $1', [messageId]);
  if (translations.length === 0) return;
  await client.query(
    `INSERT INTO message_translations (message_id, account_id, language_code, subject, html_text, plain_text)
     SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[])`,
    [
      messageId,
      accountId,
      translations.map((translation) => translation.languageCode),
      translations.map((translation) => translation.subject),
      translations.map((translation) => translation.htmlText),
      translations.map((translation) => translation.plainText ?? null),
    ],
  );
}

function values(input: EmailMessageInput): unknown[] {
  return [
    input.name,
    input.from ?? null,
    input.replyTo ?? null,
    input.subject,
    input.htmlText,
    input.plainText ?? null,
    [...(input.tags ?? [])],
    input.languageCode ?? null,
    jsonParamFieldName(input.jsonParamField),
  ];
}

export async function createEmailMessage(db: Pool, accountId: number, input: EmailMessageInput, render: RenderOptions): Promise<EmailMessage> {
  await checkTemplates(input, render);
  const id = await withTransaction(db, async (client) => {
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO messages (account_id, media_type, name, sender, reply_to, subject, html_text, plain_text, tags, language, json_param_field)
       VALUES ($1, 'Email', $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
      [accountId, ...values(input)],
    );
    const messageId = rows[0]?.id ?? 0;
    await writeTranslations(client, accountId, messageId, input.translations ?? []);
    return messageId;
  });
  return getEmailMessage(db, accountId, id);
}

/** Replaces the message (and its language versions) whole. */
export async function updateEmailMessage(
  db: Pool,
  accountId: number,
  id: number,
  input: EmailMessageInput,
  render: RenderOptions,
): Promise<EmailMessage> {
  await checkTemplates(input, render);
  await withTransaction(db, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE messages SET name = $3, sender = $4, reply_to = $5, subject = $6, html_text = $7, plain_text = $8, tags = $9,
              language = $10, json_param_field = $11, updated_at = now()
        WHERE account_id = $1 AND id = $2 AND media_type = 'Email' AND deleted_at IS NULL`,
      [accountId, id, ...values(input)],
    );
    if (rowCount === 0) throw new MessageNotFound();
    await writeTranslations(client, accountId, id, input.translations ?? []);
  });
  return getEmailMessage(db, accountId, id);
}

export async function getEmailMessage(db: Pool | PoolClient, accountId: number, id: number): Promise<EmailMessage> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${COLUMNS} FROM messages WHERE account_id = $1 AND id = $2 AND media_type = 'Email' AND deleted_at IS NULL`,
    [accountId, id],
  );
  const row = rows[0];
  if (!row) throw new MessageNotFound();
  const translations = await db.query<TranslationRow>('SELECT * FROM message_translations WHERE message_id = $1 ORDER BY language_code', [id]);
  return toMessage(row, translations.rows);
}

export async function listEmailMessages(
  db: Pool,
  accountId: number,
  page: { startIndex: number; maxRows: number },
): Promise<{ messages: EmailMessage[]; total: number }> {
  const { rows } = await db.query<MessageRow & { total: number }>(
    `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM messages
      WHERE account_id = $1 AND media_type = 'Email' AND deleted_at IS NULL
      ORDER BY id OFFSET $2 LIMIT $3`,
    [accountId, page.startIndex - 1, page.maxRows],
  );
  const translations = await db.query<TranslationRow>(
    'SELECT * FROM message_translations WHERE message_id = ANY($1::bigint[]) ORDER BY language_code',
    [rows.map((row) => row.id)],
  );
  let total = rows[0]?.total;
  if (total === undefined) {
    const counted = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE account_id = $1 AND media_type = 'Email' AND deleted_at IS NULL`,
      [accountId],
    );
    total = counted.rows[0]?.n ?? 0;
  }
  return { messages: rows.map((row) => toMessage(row, translations.rows)), total };
}

/** Soft delete: sends and activities that name the message keep their reference. */
export async function deleteEmailMessage(db: Pool, accountId: number, id: number): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE messages SET deleted_at = now(), updated_at = now() WHERE account_id = $1 AND id = $2 AND media_type = 'Email' AND deleted_at IS NULL`,
    [accountId, id],
  );
  if (rowCount === 0) throw new MessageNotFound();
}

/** The version of a message for a contact's language: the translation, else the main one. */
export function versionFor(
  message: EmailMessage,
  languageCode: string | null | undefined,
): { languageCode: string | null; subject: string; htmlText: string; plainText: string | null } {
  const wanted = languageCode?.toLowerCase();
  const translation = wanted ? message.translations.find((candidate) => candidate.languageCode.toLowerCase() === wanted) : undefined;
  if (translation)
    return {
      languageCode: translation.languageCode,
      subject: translation.subject,
      htmlText: translation.htmlText,
      plainText: translation.plainText ?? null,
    };
  return { languageCode: message.languageCode, subject: message.subject, htmlText: message.htmlText, plainText: message.plainText ?? null };
}
