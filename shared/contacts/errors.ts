import { AppError, Conflict, NotFound } from '../errors';

export class ContactNotFound extends NotFound {
  constructor() {
    super('contact', 'CONTACT_NOT_FOUND');
  }
}

export class ExternalIdTaken extends Conflict {
  constructor() {
    super('this externalCustomerId already belongs to another contact', 'EXTERNAL_ID_TAKEN');
  }
}

export class ImportJobNotFound extends NotFound {
  constructor() {
    super('import session', 'IMPORT_SESSION_NOT_FOUND');
  }
}

/** Postgres unique violation on the one-contact-per-external-ID index. */
export function isExternalIdViolation(error: unknown): boolean {
  return isUniqueViolation(error) && (error as { constraint?: string }).constraint === 'contacts_external_id';
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** PostgreSQL broke a lock cycle by failing this transaction; nothing of it was written. */
export function isDeadlock(error: unknown): boolean {
  return sqlState(error) === '40P01';
}

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

export class ContactBusy extends AppError {
  constructor() {
    super('conflict', 'CONTACT_BUSY', 'the contact was changed concurrently; retry the request');
  }
}
