import { resolveRecipients } from '../contacts/resolve-recipients';
import { AppError, NotFound, ValidationFailed } from '../errors';
import type { Platform } from '../platform';
import { listSources, withSourceAliases } from '../sources/sources';
import { renderOne } from '../templates/render-pool';
import { dataFromJsonParam } from './triggered-data';
import { bulkDataOf, bulkSourcesReadBy } from './bulk-data';
import { TemplateInvalid } from './errors';
import { templateContact, type TemplateContact } from './render-message';

/** Where `$data` comes from: the event's `jsonParam` (a triggered send) or the bulk sources the template names (a broadcast). */
export const previewDataKinds = ['jsonParam', 'bulk'] as const;
export type PreviewDataKind = (typeof previewDataKinds)[number];

export interface PreviewRequest {
  readonly template: string;
  readonly contactId?: number;
  readonly externalCustomerId?: string;
  readonly locator?: string;
  /** Renders as a triggered send would: this JSON object is `$data`. */
  readonly jsonParam?: string;
  /** Default `jsonParam`; `bulk` needs a contact. */
  readonly data?: PreviewDataKind;
}

/**
 * Renders a template for one contact the way a send would, without sending: `$contact` is
 * the contact (found like a smartsend recipient); `$data` comes from `jsonParam` as in a
 * triggered send, or, with `data: "bulk"`, from the rows of the sources the template names
 * that match the contact, looked up by the broadcast worker's own code (`bulkDataOf`).
 * A template that does not render answers 422 with its line and column.
 */
export async function previewTemplate(
  platform: Platform,
  accountId: number,
  request: PreviewRequest,
): Promise<{ output: string; contactId?: number }> {
  const bulk = request.data === 'bulk';
  if (bulk && request.jsonParam !== undefined) {
    throw new ValidationFailed('data "bulk" reads the sources the template names; leave jsonParam out', [
      { path: 'body.jsonParam', message: 'not with data "bulk"' },
    ]);
  }
  let contact: TemplateContact | undefined;
  if (request.contactId !== undefined || request.externalCustomerId !== undefined || request.locator !== undefined) {
    const [resolved] = await resolveRecipients(platform.db, accountId, [request]);
    if (!resolved?.contact) {
      if (resolved?.error?.code === 'CONTACT_NOT_FOUND') throw new NotFound('contact', 'CONTACT_NOT_FOUND');
      throw new ValidationFailed(resolved?.error?.message ?? 'invalid recipient', undefined, resolved?.error?.code);
    }
    contact = templateContact(resolved.contact);
  }
  let data: Record<string, unknown>;
  if (bulk) {
    if (!contact)
      throw new ValidationFailed('data "bulk" renders for a contact: give contactId, externalCustomerId or locator', [
        { path: 'body.contactId', message: 'required with data "bulk"' },
      ]);
    const sources = await bulkSourcesReadBy(platform, accountId, [request.template]);
    data = (await bulkDataOf(platform, accountId, sources, [contact.id])).get(contact.id) ?? {};
  } else {
    const given = dataFromJsonParam(request.jsonParam);
    if (!given) throw new AppError('invalid', 'INVALID_JSON_PARAM', 'jsonParam must be the JSON text of an object');
    data = withSourceAliases(given, await listSources(platform.db, accountId));
  }
  const result = await renderOne(request.template, { data, ...(contact ? { contact } : {}) }, platform.config);
  if (!result.ok) throw new TemplateInvalid([{ path: 'body.template', error: result.error }], 'unprocessable');
  return { output: result.output, ...(contact ? { contactId: contact.id } : {}) };
}
