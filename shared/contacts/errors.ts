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

/**
 * A save with an external ID found, by a channel, a contact that already has another external
 * ID (seed 002's subscribe order: external ID, then email, then phone). Taking it over would
 * change an ID the caller's system holds; creating a contact would duplicate the channel.
 * The caller acts: update that contact (PUT /api/v1/contact/{contactId}), or send the channel
 * the new person really has.
 */
export class ContactHasOtherExternalId extends AppError {
  constructor(contactId: number, foundBy: string) {
    super(
      'conflict',
      'CONTACT_HAS_OTHER_EXTERNAL_ID',
      `the contact found by ${foundBy} (id ${contactId}) already has another externalCustomerId; nothing was saved`,
      [
        { path: 'contactId', message: String(contactId) },
        { path: 'foundBy', message: foundBy },
      ],
    );
  }
}

/** save_contact (migration 309) refused a contact found by channel: its id in DETAIL, the channel type in HINT. */
export function otherExternalIdOf(error: unknown): ContactHasOtherExternalId | undefined {
  if (sqlState(error) !== 'SX409') return undefined;
  const { detail, hint } = error as { detail?: string; hint?: string };
  return new ContactHasOtherExternalId(Number(detail), hint ?? 'channel');
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
