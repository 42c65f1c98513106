import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { SheetData } from 'read-excel-file/node';
import * as z from 'zod';
import { AppError, ValidationFailed } from '../errors';
import { destinationPolicy, resolveDestination } from '../net/destination-guard';
import type { Platform } from '../platform';
import { bulkContactSchema, type BulkContactInput } from './contact-schema';
import { MAX_UPLOAD_ROWS, queueImportJob, type ImportRowError } from './bulk-import';

/** A file fetched by link is read up to this size (eSputnik's limit is 100 MB; Satellite's import holds the rows in one job). */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 30_000;

/** What dedupeOn may be for a file: the file has no custom-field ids to match on. */
const fileDedupeKeys = ['email', 'sms', 'email_or_sms', 'id', 'externalCustomerId'] as const;

/** Base64 of a file of MAX_UPLOAD_BYTES. */
const MAX_UPLOAD_BASE64 = Math.ceil(MAX_UPLOAD_BYTES / 3) * 4;

/**
 * contacts/upload (eSputnik's "add/update contacts from external file"): a CSV or XLSX file
 * named by `link` (fetched by the import worker through the destination guard), or given
 * inline as `csv` text or `xlsx` in base64 (Satellite's own: a file in the request, no
 * server needed).
 */
export const contactUploadSchema = z
  .object({
    dedupeOn: z.enum(fileDedupeKeys),
    link: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
    csv: z.string().min(1).max(MAX_UPLOAD_BYTES).optional(),
    xlsx: z.base64().min(1).max(MAX_UPLOAD_BASE64).optional(),
    restoreDeleted: z.boolean().default(false),
  })
  .strict()
  .refine((request) => [request.link, request.csv, request.xlsx].filter((given) => given !== undefined).length === 1, {
    message: 'give one of link, csv or xlsx',
  });
export type ContactUpload = z.output<typeof contactUploadSchema>;

/** The stored form of an upload job before the worker has read its file. */
export const storedUploadSchema = z.object({ upload: contactUploadSchema }).strict();

export class UploadFileUnreadable extends AppError {
  constructor(message: string) {
    super('unprocessable', 'UPLOAD_FILE_UNREADABLE', message);
  }
}

/** Columns of eSputnik's file format (case, spaces and underscores aside) and what they fill. */
const COLUMNS: Readonly<Record<string, (contact: Draft, value: string) => void>> = {
  firstname: (c, v) => (c.firstName = v),
  lastname: (c, v) => (c.lastName = v),
  email: (c, v) => c.channels.push({ type: 'email', value: v }),
  sms: (c, v) => c.channels.push({ type: 'sms', value: v }),
  phone: (c, v) => c.channels.push({ type: 'sms', value: v }),
  viber: (c, v) => c.channels.push({ type: 'viber', value: v }),
  languagecode: (c, v) => (c.languageCode = v),
  timezone: (c, v) => (c.timeZone = v),
  contactid: (c, v) => (c.id = /^\d{1,15}$/.test(v) ? Number(v) : Number.NaN),
  externalcustomerid: (c, v) => (c.externalCustomerId = v),
  address: (c, v) => (c.address.address = v),
  city: (c, v) => (c.address.town = v),
  town: (c, v) => (c.address.town = v),
  region: (c, v) => (c.address.region = v),
  postcode: (c, v) => (c.address.postcode = v),
};

interface Draft {
  firstName?: string;
  lastName?: string;
  languageCode?: string;
  timeZone?: string;
  externalCustomerId?: string;
  id?: number;
  channels: { type: 'email' | 'sms' | 'viber'; value: string }[];
  address: { address?: string; town?: string; region?: string; postcode?: string };
  fields: { id: number; value: string }[];
}

export interface FileContacts {
  readonly contacts: BulkContactInput[];
  readonly errors: ImportRowError[];
}

/** The contacts of a CSV file: comma or semicolon separated (whichever the header uses), RFC 4180 quoting. */
export function contactsFromCsv(text: string): FileContacts {
  return contactsFromRows(parseCsv(text.replace(/^\uFEFF/, '')));
}

/** The first four bytes of every ZIP file, and so of every XLSX workbook. */
const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** The first bytes of an OLE2 compound file: the Excel 97–2003 `.xls` format. */
const OLE2_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0]);

/**
 * The contacts of an XLSX workbook's first sheet, read by the same rules as a CSV file's
 * rows. Cells are read as the text they hold: numbers as written in the file (a phone
 * number stored as a number keeps its digits), dates as ISO-8601. The parser is loaded
 * here, on the first workbook, so that nothing else (the API above all) pays its load time.
 */
export async function contactsFromXlsx(file: Buffer): Promise<FileContacts> {
  if (file.subarray(0, 4).equals(OLE2_SIGNATURE))
    throw new UploadFileUnreadable('Excel 97–2003 (.xls) files are not read; save the sheet as .xlsx or CSV');
  if (!file.subarray(0, 4).equals(ZIP_SIGNATURE)) throw new UploadFileUnreadable('the file is not an XLSX workbook');
  // require, not import(): the package's CommonJS build, loaded on the first workbook, which
  // esbuild bundles and jest's module registry serves alike.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readSheet } = require('read-excel-file/node') as typeof import('read-excel-file/node');
  let sheet: SheetData<string>;
  try {
    sheet = await readSheet<string>(file, 1, { parseNumber: (text: string) => text });
  } catch (error) {
    throw new UploadFileUnreadable(`the workbook could not be read: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500));
  }
  return contactsFromRows(sheet.map((row) => row.map(cellText)));
}

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return cell.toISOString();
  return String(cell);
}

/**
 * The contacts of a file's rows: a header row, then one contact per row. A numeric header
 * is an additional field's id; columns the platform does not know are skipped, as eSputnik
 * skips them. Empty cells leave the contact's value as it is. Rows that are not a valid
 * contact are reported with their row number (1 = first row after the header) and left out.
 */
function contactsFromRows(rows: string[][]): FileContacts {
  const header = rows.shift();
  if (!header) throw new UploadFileUnreadable('the file is empty');
  const setters = header.map((name) => {
    const key = name
      .trim()
      .toLowerCase()
      .replace(/[\s_-]/g, '');
    if (/^\d{1,9}$/.test(key)) return (contact: Draft, value: string) => contact.fields.push({ id: Number(key), value });
    return COLUMNS[key];
  });
  if (!setters.some((setter) => setter !== undefined))
    throw new UploadFileUnreadable('no column of the header names a contact field (e.g. Email, Sms, First name)');
  if (rows.length > MAX_UPLOAD_ROWS) throw new UploadFileUnreadable(`the file has more than ${MAX_UPLOAD_ROWS} rows`);
  const contacts: BulkContactInput[] = [];
  const errors: ImportRowError[] = [];
  rows.forEach((cells, index) => {
    if (cells.every((cell) => cell.trim() === '')) return;
    const draft: Draft = { channels: [], address: {}, fields: [] };
    cells.forEach((cell, column) => {
      const value = cell.trim();
      if (value !== '') setters[column]?.(draft, value);
    });
    const parsed = bulkContactSchema.safeParse({
      ...(draft.firstName !== undefined ? { firstName: draft.firstName } : {}),
      ...(draft.lastName !== undefined ? { lastName: draft.lastName } : {}),
      ...(draft.languageCode !== undefined ? { languageCode: draft.languageCode } : {}),
      ...(draft.timeZone !== undefined ? { timeZone: draft.timeZone } : {}),
      ...(draft.externalCustomerId !== undefined ? { externalCustomerId: draft.externalCustomerId } : {}),
      ...(draft.id !== undefined ? { id: draft.id } : {}),
      ...(draft.channels.length > 0 ? { channels: draft.channels } : {}),
      ...(Object.keys(draft.address).length > 0 ? { address: draft.address } : {}),
      ...(draft.fields.length > 0 ? { fields: draft.fields } : {}),
    });
    if (parsed.success) contacts.push(parsed.data);
    else
      errors.push({
        index: index + 1,
        code: 'INVALID_ROW',
        message: parsed.error.issues
          .map((issue) => `${issue.path.join('.') || 'row'}: ${issue.message}`)
          .join('; ')
          .slice(0, 500),
      });
  });
  return { contacts, errors };
}

/** RFC 4180 rows; the delimiter is the header's (a semicolon before any comma means semicolons). */
export function parseCsv(text: string): string[][] {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const semicolon = firstLine.indexOf(';');
  const comma = firstLine.indexOf(',');
  const delimiter = semicolon !== -1 && (comma === -1 || semicolon < comma) ? ';' : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index]!;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        cell += '"';
        index += 1;
      } else if (character === '"') quoted = false;
      else cell += character;
    } else if (character === '"' && cell === '') quoted = true;
    else if (character === delimiter) {
      row.push(cell);
      cell = '';
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && text[index + 1] === '\n') index += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += character;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/**
 * Fetches the file a link names. The host is resolved once and checked by the destination
 * guard (connectors' and webhooks' rule: no private or loopback address in production) and
 * the connection goes to that address. Redirects are not followed: the next host would skip
 * the check.
 */
export async function fetchUploadFile(platform: Platform, link: string): Promise<Buffer> {
  const url = new URL(link);
  const destination = await resolveDestination(url.hostname, destinationPolicy(platform.config));
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: destination.address, family: destination.family }]);
    else callback(null, destination.address, destination.family);
  };
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<Buffer>((resolve, reject) => {
    const request = transport.get(url, { lookup, timeout: FETCH_TIMEOUT_MS }, (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        response.resume();
        reject(new UploadFileUnreadable(`the link answered HTTP ${status}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_UPLOAD_BYTES) {
          request.destroy();
          reject(new UploadFileUnreadable(`the file is larger than ${MAX_UPLOAD_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', (error) => reject(new UploadFileUnreadable(`the file could not be read: ${error.message}`)));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${FETCH_TIMEOUT_MS} ms`)));
    request.on('error', (error) =>
      reject(error instanceof AppError ? error : new UploadFileUnreadable(`the link could not be fetched: ${error.message}`)),
    );
  });
}

/** A linked file is a workbook when it is a ZIP (an XLSX) or an OLE2 file (an .xls, refused with its reason); any other is CSV text. */
async function contactsFromUpload(platform: Platform, upload: ContactUpload): Promise<FileContacts> {
  if (upload.csv !== undefined) return contactsFromCsv(upload.csv);
  if (upload.xlsx !== undefined) return contactsFromXlsx(Buffer.from(upload.xlsx, 'base64'));
  const file = await fetchUploadFile(platform, upload.link ?? '');
  const head = file.subarray(0, 4);
  if (head.equals(ZIP_SIGNATURE) || head.equals(OLE2_SIGNATURE)) return contactsFromXlsx(file);
  return contactsFromCsv(file.toString('utf8'));
}

/** Checks an upload request at the edge: a link's host must pass the destination guard now, not only in the worker. */
export async function checkUploadLink(platform: Platform, upload: ContactUpload): Promise<void> {
  if (upload.link === undefined) return;
  const host = new URL(upload.link).hostname;
  if (!host) throw new ValidationFailed('link has no host');
  await resolveDestination(host, destinationPolicy(platform.config));
}

/** Stores an upload as an import job (its file is read by the worker) and queues it, as POST /contacts does. */
export async function startContactUpload(platform: Platform, accountId: number, upload: ContactUpload): Promise<string> {
  await checkUploadLink(platform, upload);
  // Its rows are counted once the worker has read the file.
  return queueImportJob(platform, accountId, { upload }, 0);
}

/**
 * The import worker's first step for an upload job: reads the file and stores its rows as
 * the job's request, which the import then applies exactly as a POST /contacts body (same
 * dedupe, restore and per-chunk progress). Rows that are not contacts count as failed at
 * once. A file that cannot be read ends the job FAILED with the reason; a network failure
 * is thrown, so the queue tries again. Jobs that are not uploads are left alone.
 */
export async function readUploadedFile(platform: Platform, jobId: string): Promise<void> {
  const { rows } = await platform.db.query<{ request: unknown }>(
    `SELECT request FROM contact_import_jobs WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`,
    [jobId],
  );
  const stored = storedUploadSchema.safeParse(rows[0]?.request);
  if (!stored.success) return;
  const upload = stored.data.upload;
  let read: FileContacts;
  try {
    read = await contactsFromUpload(platform, upload);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    await platform.db.query(
      `UPDATE contact_import_jobs SET status = 'FAILED', request = NULL, errors = $2::jsonb, finished_at = now(), updated_at = now() WHERE id = $1`,
      [jobId, JSON.stringify([{ index: 0, code: error.code, message: error.message }])],
    );
    return;
  }
  const errors = read.errors.slice(0, 1000);
  if (read.contacts.length === 0) {
    await platform.db.query(
      `UPDATE contact_import_jobs SET status = 'FINISHED', request = NULL, failed = $2, errors = $3::jsonb, finished_at = now(), updated_at = now() WHERE id = $1`,
      [jobId, read.errors.length, JSON.stringify(errors)],
    );
    return;
  }
  await platform.db.query(
    `UPDATE contact_import_jobs SET request = $2::jsonb, total = $3, failed = $4, errors = $5::jsonb, updated_at = now() WHERE id = $1`,
    [
      jobId,
      JSON.stringify({ contacts: read.contacts, dedupeOn: upload.dedupeOn, restoreDeleted: upload.restoreDeleted }),
      read.contacts.length,
      read.errors.length,
      JSON.stringify(errors),
    ],
  );
}
