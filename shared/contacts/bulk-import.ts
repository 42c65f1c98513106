import type { Pool, PoolClient } from 'pg';
import * as z from 'zod';
import type { Platform } from '../platform';
import { withTransaction } from '../store/transaction';
import { channelTypes, normalizeChannels, type ChannelType, type NormalizedChannel } from './channels';
import { bulkContactSchema, type BulkContactInput, type FieldValue } from './contact-schema';
import { ImportJobNotFound, isExternalIdViolation, isUniqueViolation } from './errors';
import { replaceChannels } from './write-channels';

export const MAX_CONTACTS_PER_IMPORT = 3000;
/** Rows per transaction: progress moves, and a redelivered job resumes, chunk by chunk. */
export const IMPORT_CHUNK_SIZE = 500;
/** Per-row errors kept on a job; past this only the count (`failed`) grows. */
const MAX_KEPT_ERRORS = 1000;
/** Tries per chunk; the last one writes contact by contact (see `writeContactByContact`). */
const CHUNK_ATTEMPTS = 3;

export const dedupeKeys = ['email', 'sms', 'email_or_sms', 'id', 'fieldId', 'externalCustomerId'] as const;
export type DedupeKey = (typeof dedupeKeys)[number];

/** What `contactFields` may name: the contact's own fields and its channel types. */
export const updatableFields = ['firstName', 'lastName', 'externalCustomerId', 'languageCode', 'timeZone', 'address', ...channelTypes] as const;
type UpdatableField = (typeof updatableFields)[number];

/** Rows a contacts/upload file may hold; its rows are stored as one import request (see file-import.ts). */
export const MAX_UPLOAD_ROWS = 100_000;

const importRequestSchema = (maxContacts: number) =>
  z
    .object({
      contacts: z.array(bulkContactSchema).min(1).max(maxContacts),
      dedupeOn: z.enum(dedupeKeys),
      fieldId: z.number().int().positive().optional(),
      contactFields: z.array(z.enum(updatableFields)).max(updatableFields.length).optional(),
      customFieldsIDs: z.array(z.number().int().positive()).max(500).optional(),
      restoreDeleted: z.boolean().default(false),
    })
    .strict()
    .refine((request) => request.dedupeOn !== 'fieldId' || request.fieldId !== undefined, {
      message: 'dedupeOn "fieldId" needs fieldId',
      path: ['fieldId'],
    });
export const bulkImportSchema = importRequestSchema(MAX_CONTACTS_PER_IMPORT);
/** What the import worker accepts from the store: a POST /contacts body, or the rows of an uploaded file. */
const storedImportSchema = importRequestSchema(MAX_UPLOAD_ROWS);
export type BulkImportRequest = z.output<typeof bulkImportSchema>;

export interface ImportRowError {
  readonly index: number;
  readonly code: string;
  readonly message: string;
}

export interface ImportStatus {
  readonly asyncSessionId: string;
  readonly status: 'QUEUED' | 'RUNNING' | 'FINISHED' | 'FAILED';
  readonly total: number;
  readonly processed: number;
  readonly created: number;
  readonly updated: number;
  readonly failed: number;
  readonly errors: readonly ImportRowError[];
}

/** Stores the request and queues its id (a 3000-contact body can exceed an SQS message). */
export function startContactImport(platform: Platform, accountId: number, request: BulkImportRequest): Promise<string> {
  return queueImportJob(platform, accountId, request, request.contacts.length);
}

/**
 * Stores an import job's request (contacts, or a file the worker reads first) and queues its
 * id; a job that could not be queued is removed, so no import waits for a message that never
 * comes.
 */
export async function queueImportJob(platform: Platform, accountId: number, request: object, total: number): Promise<string> {
  const { rows } = await platform.db.query<{ id: string }>(
    'INSERT INTO contact_import_jobs (account_id, request, total) VALUES ($1, $2::jsonb, $3) RETURNING id',
    [accountId, JSON.stringify(request), total],
  );
  const id = rows[0]?.id ?? '';
  try {
    await platform.queue.send('imports', [{ body: JSON.stringify({ jobId: id }) }]);
  } catch (error) {
    await platform.db.query('DELETE FROM contact_import_jobs WHERE id = $1', [id]);
    throw error;
  }
  return id;
}

/**
 * Queues every unfinished import again, for a queue that lost what it held (the local
 * runtime's SQS server keeps messages in memory only). An import resumes where it stopped.
 */
export async function requeueUnfinishedImports(platform: Platform): Promise<number> {
  const { rows } = await platform.db.query<{ id: string }>(
    "SELECT id FROM contact_import_jobs WHERE status IN ('QUEUED', 'RUNNING') ORDER BY created_at",
  );
  await platform.queue.send(
    'imports',
    rows.map(({ id }) => ({ body: JSON.stringify({ jobId: id }) })),
  );
  return rows.length;
}

export async function importStatus(db: Pool, accountId: number, id: string): Promise<ImportStatus> {
  const { rows } = await db.query<{
    id: string;
    status: ImportStatus['status'];
    total: number;
    processed: number;
    created: number;
    updated: number;
    failed: number;
    errors: ImportRowError[];
  }>(
    `SELECT id, status, total, processed, created, updated, failed, errors
       FROM contact_import_jobs WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  const job = rows[0];
  if (!job) throw new ImportJobNotFound();
  return {
    asyncSessionId: job.id,
    status: job.status,
    total: job.total,
    processed: job.processed,
    created: job.created,
    updated: job.updated,
    failed: job.failed,
    errors: job.errors,
  };
}

/**
 * The import-job consumer: applies the stored request chunk by chunk, each chunk with its
 * progress in one transaction, so a crash or redelivery neither loses nor repeats a row.
 */
export async function runContactImport(db: Pool, jobId: string): Promise<void> {
  const { rows } = await db.query<{ account_id: number; status: string; request: unknown; processed: number }>(
    `UPDATE contact_import_jobs SET status = 'RUNNING', updated_at = now()
      WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING account_id, status, request, processed`,
    [jobId],
  );
  const job = rows[0];
  if (!job) return; // finished already, or gone
  const parsed = storedImportSchema.safeParse(job.request);
  if (!parsed.success) {
    await markContactImportFailed(db, jobId);
    return;
  }
  const request = parsed.data;
  for (let start = job.processed; start < request.contacts.length; start += IMPORT_CHUNK_SIZE) {
    const end = Math.min(start + IMPORT_CHUNK_SIZE, request.contacts.length);
    await applyChunkWithRetry(db, job.account_id, jobId, request, start, end);
  }
  // The request has served its purpose: the session keeps its counts and per-row errors only.
  await db.query(`UPDATE contact_import_jobs SET status = 'FINISHED', request = NULL, finished_at = now(), updated_at = now() WHERE id = $1`, [
    jobId,
  ]);
}

async function applyChunkWithRetry(
  db: Pool,
  accountId: number,
  jobId: string,
  request: BulkImportRequest,
  start: number,
  end: number,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const last = attempt === CHUNK_ATTEMPTS;
    try {
      await withTransaction(db, async (client) => {
        const outcome = await applyChunk(client, accountId, request, start, end, last ? writeContactByContact : writeContacts);
        // The kept errors stop at exactly MAX_KEPT_ERRORS; `failed` counts every one.
        await client.query(
          `UPDATE contact_import_jobs SET processed = $2, created = created + $3, updated = updated + $4, failed = failed + $5,
                  errors = CASE WHEN jsonb_array_length(errors) >= $7 THEN errors
                                ELSE (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(errors || $6::jsonb) WITH ORDINALITY AS kept(e, n) WHERE n <= $7) END,
                  updated_at = now()
            WHERE id = $1`,
          [
            jobId,
            end,
            outcome.created,
            outcome.updated,
            outcome.errors.length,
            JSON.stringify(outcome.errors.slice(0, MAX_KEPT_ERRORS)),
            MAX_KEPT_ERRORS,
          ],
        );
      });
      return;
    } catch (error) {
      // An external ID given to a contact concurrently (single API, another import) since the
      // match: match again, and the rows update that contact.
      if (isUniqueViolation(error) && !last) continue;
      throw error;
    }
  }
}

interface PreparedRow {
  readonly index: number;
  /** The rows merged into this one, in row order. */
  readonly indexes: readonly number[];
  input: BulkContactInput;
  channels: NormalizedChannel[];
  readonly email: string | null;
  readonly sms: string | null;
  readonly fieldValue: string | null;
}

interface Match {
  readonly ord: number;
  readonly id: number | null;
  readonly deleted: boolean | null;
}

/** What a chunk writes: each contact once, with the rows that name it merged in row order. */
interface ChunkWrite {
  readonly updates: readonly [number, PreparedRow][];
  readonly inserts: readonly PreparedRow[];
}

/** Writes a planned chunk; rows it cannot write go to `errors`. */
type WriteChunk = (
  client: PoolClient,
  accountId: number,
  request: BulkImportRequest,
  write: ChunkWrite,
  errors: ImportRowError[],
) => Promise<{ created: number; updated: number }>;

async function applyChunk(
  client: PoolClient,
  accountId: number,
  request: BulkImportRequest,
  start: number,
  end: number,
  write: WriteChunk,
): Promise<{ created: number; updated: number; errors: ImportRowError[] }> {
  const rows: PreparedRow[] = request.contacts.slice(start, end).map((input, offset) => {
    const channels = normalizeChannels(input.channels ?? []);
    const first = (type: ChannelType) => channels.find((channel) => channel.type === type)?.normalized ?? null;
    const field = request.fieldId === undefined ? undefined : input.fields?.find((candidate) => candidate.id === request.fieldId);
    const dedupe = request.dedupeOn;
    return {
      index: start + offset,
      indexes: [start + offset],
      input,
      channels,
      email: dedupe === 'email' || dedupe === 'email_or_sms' ? first('email') : null,
      sms: dedupe === 'sms' || dedupe === 'email_or_sms' ? first('sms') : null,
      fieldValue: dedupe === 'fieldId' && field && field.value !== null ? JSON.stringify(field.value) : null,
    };
  });

  const matches = await matchContacts(client, accountId, request, rows);
  const errors: ImportRowError[] = [];
  const chunk = planChunk(request, rows, matches, errors);
  const written = await write(client, accountId, request, chunk, errors);
  return { ...written, errors: errors.sort((a, b) => a.index - b.index) };
}

type Target = { readonly contactId: number } | { readonly newContact: string };

/**
 * Where each row goes. An external ID names one contact (seed 002: it identifies before any
 * other key): the first row carrying it decides which, by its stored owner, its dedupe
 * match, or as a new contact, and the later rows carrying it follow, as they would if that
 * row had been committed already (in an earlier chunk). Without that, two rows with one new
 * ID could update or create two contacts, and the second write would break the unique index.
 */
function planChunk(request: BulkImportRequest, rows: readonly PreparedRow[], matches: readonly Match[], errors: ImportRowError[]): ChunkWrite {
  // An update that leaves the external ID out (contactFields) gives the contact nothing to be found by later.
  const updateWritesExternalId = !request.contactFields || request.contactFields.includes('externalCustomerId');
  const contactOfExternalId = new Map<string, Target>();
  // Dedupe values (`email:…`, `sms:…`, `field:…`) of the contacts this chunk creates.
  const newContactOfValue = new Map<string, string>();
  const updates = new Map<number, PreparedRow>();
  const inserts = new Map<string, PreparedRow>();
  for (const [ord, row] of rows.entries()) {
    const externalId = row.input.externalCustomerId;
    const match = matches[ord];
    let target = externalId === undefined ? undefined : contactOfExternalId.get(externalId);
    if (target === undefined) {
      if (match?.id != null) {
        if (match.deleted && !request.restoreDeleted) {
          errors.push({ index: row.index, code: 'CONTACT_DELETED', message: 'the contact is deleted; send restoreDeleted: true to restore it' });
          continue;
        }
        target = { contactId: match.id };
      } else if (request.dedupeOn === 'id' && row.input.id !== undefined) {
        errors.push({ index: row.index, code: 'CONTACT_NOT_FOUND', message: 'no contact with this id' });
        continue;
      } else {
        // Rows of this chunk that would create the same contact become one. A row without an
        // external ID joins a contact an earlier row creates when it holds one of the row's
        // dedupe values (email before phone), as the row would match it in a later chunk.
        const joined =
          externalId === undefined
            ? dedupeValues(row)
                .map((value) => newContactOfValue.get(value))
                .find((key) => key !== undefined)
            : undefined;
        target = { newContact: joined ?? newContactKey(row, request) };
      }
      if (externalId !== undefined && ('newContact' in target || updateWritesExternalId)) contactOfExternalId.set(externalId, target);
    }
    if ('contactId' in target) {
      const earlier = updates.get(target.contactId);
      updates.set(target.contactId, earlier ? merge(earlier, row) : row);
    } else {
      const earlier = inserts.get(target.newContact);
      inserts.set(target.newContact, earlier ? merge(earlier, row) : row);
      for (const value of dedupeValues(row)) if (!newContactOfValue.has(value)) newContactOfValue.set(value, target.newContact);
    }
  }
  return { updates: [...updates.entries()], inserts: [...inserts.values()] };
}

/** The values a row's contact is found by under the request's `dedupeOn`, most trusted first. */
function dedupeValues(row: PreparedRow): string[] {
  const values: string[] = [];
  if (row.email !== null) values.push(`email:${row.email}`);
  if (row.sms !== null) values.push(`sms:${row.sms}`);
  if (row.fieldValue !== null) values.push(`field:${row.fieldValue}`);
  return values;
}

/** The whole chunk in a few set-based statements. */
async function writeContacts(
  client: PoolClient,
  accountId: number,
  request: BulkImportRequest,
  write: ChunkWrite,
): Promise<{ created: number; updated: number }> {
  const updated = await updateContacts(client, accountId, request, write.updates);
  const created = await insertContacts(client, accountId, write.inserts);
  await replaceChannels(client, accountId, [
    ...updated.map(([id, row]) => ({ contactId: id, channels: row.channels, fresh: false })),
    ...created.map(([id, row]) => ({ contactId: id, channels: row.channels, fresh: true })),
  ]);
  return { created: created.length, updated: updated.length };
}

/**
 * The last attempt at a chunk, after its writes twice met an external ID given to another
 * contact since the match: each contact in a savepoint of its own, so a write that meets one
 * again fails only the rows merged into that contact (EXTERNAL_ID_CONFLICT), not the chunk
 * and every chunk after it.
 */
async function writeContactByContact(
  client: PoolClient,
  accountId: number,
  request: BulkImportRequest,
  write: ChunkWrite,
  errors: ImportRowError[],
): Promise<{ created: number; updated: number }> {
  const total = { created: 0, updated: 0 };
  const contacts: { row: PreparedRow; write: ChunkWrite }[] = [
    ...write.updates.map(([id, row]) => ({ row, write: { updates: [[id, row] as [number, PreparedRow]], inserts: [] } })),
    ...write.inserts.map((row) => ({ row, write: { updates: [], inserts: [row] } })),
  ];
  for (const contact of contacts) {
    await client.query('SAVEPOINT contact');
    try {
      const written = await writeContacts(client, accountId, request, contact.write);
      await client.query('RELEASE SAVEPOINT contact');
      total.created += written.created;
      total.updated += written.updated;
    } catch (error) {
      if (!isExternalIdViolation(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT contact');
      const message = `externalCustomerId "${contact.row.input.externalCustomerId ?? ''}" was given to another contact while this row was imported; send the row again`;
      for (const index of contact.row.indexes) errors.push({ index, code: 'EXTERNAL_ID_CONFLICT', message });
    }
  }
  return total;
}

function newContactKey(row: PreparedRow, request: BulkImportRequest): string {
  if (row.input.externalCustomerId !== undefined) return `x:${row.input.externalCustomerId}`;
  const value = row.email ?? row.sms ?? row.fieldValue;
  return value === null ? `row:${row.index}` : `${request.dedupeOn}:${value}`;
}

/** A later row about the same contact wins field by field; its channels replace by type. */
function merge(earlier: PreparedRow, later: PreparedRow): PreparedRow {
  const types = new Set(later.channels.map((channel) => channel.type));
  const fields = new Map<number, FieldValue>();
  for (const field of [...(earlier.input.fields ?? []), ...(later.input.fields ?? [])]) fields.set(field.id, field.value);
  return {
    ...earlier,
    indexes: [...earlier.indexes, ...later.indexes],
    input: { ...earlier.input, ...stripUndefined(later.input), fields: [...fields].map(([id, value]) => ({ id, value })) },
    channels: [...earlier.channels.filter((channel) => !types.has(channel.type)), ...later.channels],
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/**
 * One query for the whole chunk: each row's contact by externalCustomerId first, then by the
 * dedupe key (contact id, email, then sms, or an additional field's value).
 */
async function matchContacts(client: PoolClient, accountId: number, request: BulkImportRequest, rows: readonly PreparedRow[]): Promise<Match[]> {
  const { rows: matches } = await client.query<Match>(
    `SELECT i.ord, COALESCE(x.id, k.id) AS id, COALESCE(x.deleted, k.deleted) AS deleted
       FROM unnest($2::int[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[]) AS i(ord, ext, cid, email, sms, fval)
       LEFT JOIN LATERAL (
         SELECT c.id, c.deleted_at IS NOT NULL AS deleted FROM contacts c WHERE c.account_id = $1 AND c.external_customer_id = i.ext
       ) x ON true
       LEFT JOIN LATERAL (
         SELECT m.id, m.deleted FROM (
           SELECT c.id, c.deleted_at IS NOT NULL AS deleted, 1 AS rank FROM contacts c WHERE c.account_id = $1 AND c.id = i.cid
           UNION ALL
           SELECT c.id, c.deleted_at IS NOT NULL, 2 FROM contact_channels ch JOIN contacts c ON c.id = ch.contact_id
            WHERE ch.account_id = $1 AND ch.type = 'email' AND ch.normalized = i.email
           UNION ALL
           SELECT c.id, c.deleted_at IS NOT NULL, 3 FROM contact_channels ch JOIN contacts c ON c.id = ch.contact_id
            WHERE ch.account_id = $1 AND ch.type = 'sms' AND ch.normalized = i.sms
           UNION ALL
           SELECT c.id, c.deleted_at IS NOT NULL, 4 FROM contacts c
            WHERE i.fval IS NOT NULL AND c.account_id = $1 AND c.fields @> jsonb_build_object($8::text, i.fval::jsonb)
         ) m
         WHERE x.id IS NULL AND ($9 OR NOT m.deleted)
         ORDER BY m.deleted, m.rank, m.id LIMIT 1
       ) k ON true
      ORDER BY i.ord`,
    [
      accountId,
      rows.map((_, ord) => ord),
      rows.map((row) => row.input.externalCustomerId ?? null),
      rows.map((row) => (request.dedupeOn === 'id' ? (row.input.id ?? null) : null)),
      rows.map((row) => row.email),
      rows.map((row) => row.sms),
      rows.map((row) => row.fieldValue),
      String(request.fieldId ?? 0),
      request.restoreDeleted,
    ],
  );
  return matches;
}

/** `contactFields` / `customFieldsIDs` limit what an update changes; new contacts get everything. */
function limitToRequested(row: PreparedRow, request: BulkImportRequest): PreparedRow {
  const allowed = request.contactFields ? new Set<UpdatableField>(request.contactFields) : undefined;
  const customIds = request.customFieldsIDs ? new Set(request.customFieldsIDs) : undefined;
  const keep = (name: UpdatableField) => !allowed || allowed.has(name);
  const input = row.input;
  return {
    ...row,
    input: {
      firstName: keep('firstName') ? input.firstName : undefined,
      lastName: keep('lastName') ? input.lastName : undefined,
      externalCustomerId: keep('externalCustomerId') ? input.externalCustomerId : undefined,
      languageCode: keep('languageCode') ? input.languageCode : undefined,
      timeZone: keep('timeZone') ? input.timeZone : undefined,
      address: keep('address') ? input.address : undefined,
      fields: (input.fields ?? []).filter((field) => !customIds || customIds.has(field.id)),
    },
    channels: row.channels.filter((channel) => keep(channel.type)),
  };
}

function contactRecord(row: PreparedRow): Record<string, unknown> {
  const input = row.input;
  return {
    external_customer_id: input.externalCustomerId ?? null,
    first_name: input.firstName ?? null,
    last_name: input.lastName ?? null,
    language_code: input.languageCode ?? null,
    time_zone: input.timeZone ?? null,
    address: input.address ?? null,
    fields: Object.fromEntries((input.fields ?? []).map((field) => [String(field.id), field.value])),
  };
}

const RECORD_COLUMNS = `external_customer_id text, first_name text, last_name text, language_code text, time_zone text, address jsonb, fields jsonb`;

async function updateContacts(
  client: PoolClient,
  accountId: number,
  request: BulkImportRequest,
  updates: readonly [number, PreparedRow][],
): Promise<[number, PreparedRow][]> {
  if (updates.length === 0) return [];
  const limited = updates.map(([id, row]): [number, PreparedRow] => [id, limitToRequested(row, request)]);
  // Absent values (NULL here) keep what the contact has; the import never blanks a field.
  await client.query(
    `UPDATE contacts c SET
       external_customer_id = COALESCE(u.external_customer_id, c.external_customer_id),
       first_name = COALESCE(u.first_name, c.first_name),
       last_name = COALESCE(u.last_name, c.last_name),
       language_code = COALESCE(u.language_code, c.language_code),
       time_zone = COALESCE(u.time_zone, c.time_zone),
       address = COALESCE(u.address, c.address),
       fields = jsonb_strip_nulls(c.fields || COALESCE(u.fields, '{}'::jsonb)),
       deleted_at = NULL,
       updated_at = now()
     FROM jsonb_to_recordset($2::jsonb) AS u(id bigint, ${RECORD_COLUMNS})
     WHERE c.account_id = $1 AND c.id = u.id`,
    [accountId, JSON.stringify(limited.map(([id, row]) => ({ id, ...contactRecord(row) })))],
  );
  return limited;
}

async function insertContacts(client: PoolClient, accountId: number, rows: readonly PreparedRow[]): Promise<[number, PreparedRow][]> {
  if (rows.length === 0) return [];
  // Ids are drawn in the recordset's order, so sorted ids line up with the rows.
  const { rows: inserted } = await client.query<{ id: number }>(
    `INSERT INTO contacts (id, account_id, source, external_customer_id, first_name, last_name, language_code, time_zone, address, fields)
     OVERRIDING SYSTEM VALUE
     SELECT nextval(pg_get_serial_sequence('contacts', 'id')), $1, 'IMPORT', r.external_customer_id, r.first_name, r.last_name,
            r.language_code, r.time_zone, r.address, jsonb_strip_nulls(COALESCE(r.fields, '{}'::jsonb))
       FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (${RECORD_COLUMNS})) WITH ORDINALITY AS r
      ORDER BY r.ordinality
     RETURNING id`,
    [accountId, JSON.stringify(rows.map(contactRecord))],
  );
  const ids = inserted.map((row) => row.id).sort((a, b) => a - b);
  return rows.map((row, index): [number, PreparedRow] => [ids[index] ?? 0, row]);
}

/** Ends a job that will never finish; like a finished one, it keeps its counts and errors but not its request. */
export async function markContactImportFailed(db: Pool, jobId: string): Promise<void> {
  await db.query(
    `UPDATE contact_import_jobs SET status = 'FAILED', request = NULL, finished_at = now(), updated_at = now() WHERE id = $1 AND status <> 'FINISHED'`,
    [jobId],
  );
}
