import { resolveRecipients } from '../contacts/resolve-recipients';
import { AppError, NotFound, ValidationFailed } from '../errors';
import type { Platform } from '../platform';
import { renderOne } from '../templates/render-pool';
import { dataFromJsonParam } from '../trigger-events/json-param';
import { TemplateInvalid } from './errors';
import { templateContact, type TemplateContact } from './render-message';

export interface PreviewRequest {
  readonly template: string;
  readonly contactId?: number;
  readonly externalCustomerId?: string;
  readonly locator?: string;
  /** Renders as a triggered send would: this JSON object is `$data`. */
  readonly jsonParam?: string;
}

/**
 * Renders a template for one contact the way a send would, without sending: `$contact` is
 * the contact (found like a smartsend recipient), `$data` comes from `jsonParam`.
 * A template that does not render answers 422 with its line and column.
 */
export async function previewTemplate(platform: Platform, accountId: number, request: PreviewRequest): Promise<{ output: string; contactId?: number }> {
  let contact: TemplateContact | undefined;
  if (request.contactId !== undefined || request.externalCustomerId !== undefined || request.locator !== undefined) {
    const [resolved] = await resolveRecipients(platform.db, accountId, [request]);
    if (!resolved?.contact) {
      if (resolved?.error?.code === 'CONTACT_NOT_FOUND') throw new NotFound('contact', 'CONTACT_NOT_FOUND');
      throw new ValidationFailed(resolved?.error?.message ?? 'invalid recipient', undefined, resolved?.error?.code);
    }
    contact = templateContact(resolved.contact);
  }
  const data = dataFromJsonParam(request.jsonParam);
  if (!data) throw new AppError('invalid', 'INVALID_JSON_PARAM', 'jsonParam must be the JSON text of an object');
  const result = await renderOne(request.template, { data, ...(contact ? { contact } : {}) }, platform.config);
  if (!result.ok) throw new TemplateInvalid([{ path: 'body.template', error: result.error }], 'unprocessable');
  return { output: result.output, ...(contact ? { contactId: contact.id } : {}) };
}
