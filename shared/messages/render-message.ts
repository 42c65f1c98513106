import type { RecipientContact } from '../contacts/resolve-recipients';
import type { RenderResult, TemplateError } from '../templates/render';
import { renderTemplates, type RenderOptions } from '../templates/render-pool';
import { versionFor, type EmailMessage } from './messages';

/** What a template sees as `$contact`. */
export interface TemplateContact {
  readonly id: number;
  readonly externalCustomerId: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly sms: string | null;
  readonly languageCode: string | null;
}

export function templateContact(contact: RecipientContact): TemplateContact {
  return {
    id: contact.id,
    externalCustomerId: contact.externalCustomerId,
    firstName: contact.firstName,
    lastName: contact.lastName,
    email: contact.email,
    sms: contact.sms,
    languageCode: contact.languageCode,
  };
}

export type RenderedMessage =
  | { readonly ok: true; readonly languageCode: string | null; readonly subject: string; readonly htmlText: string; readonly plainText?: string }
  | { readonly ok: false; readonly part: 'subject' | 'htmlText' | 'plainText'; readonly error: TemplateError };

export interface MessageRecipient {
  readonly contact: TemplateContact;
  /** `$data`: external rows by source name in bulk sends, by source id from `jsonParam` in triggered ones. */
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Renders each recipient's language version of a message (subject, HTML and, when the
 * message has one, the text part the email carries beside the HTML; without it delivery
 * derives one from the HTML) with `$data` and `$contact`, all in one call to the render
 * threads (a page of a bulk send pays the thread hop once). A template failure is that
 * recipient's result, never an exception.
 */
export async function renderMessages(
  message: EmailMessage,
  recipients: readonly MessageRecipient[],
  render: RenderOptions,
): Promise<RenderedMessage[]> {
  const templates: string[] = [];
  const templateIndexes = new Map<string, number>();
  const templateIndex = (source: string): number => {
    let index = templateIndexes.get(source);
    if (index === undefined) {
      index = templates.push(source) - 1;
      templateIndexes.set(source, index);
    }
    return index;
  };
  const versions = recipients.map(({ contact }) => versionFor(message, contact.languageCode));
  const firstJob: number[] = [];
  const jobs: { template: number; variables: Readonly<Record<string, unknown>> }[] = [];
  recipients.forEach(({ contact, data }, index) => {
    const version = versions[index] as (typeof versions)[number];
    const variables = { data, contact: { ...contact } };
    firstJob.push(jobs.length);
    jobs.push({ template: templateIndex(version.subject), variables }, { template: templateIndex(version.htmlText), variables });
    if (version.plainText) jobs.push({ template: templateIndex(version.plainText), variables });
  });
  const results = await renderTemplates(templates, jobs, render);
  return versions.map((version, index): RenderedMessage => {
    const at = firstJob[index] as number;
    const subject = results[at] as RenderResult;
    const htmlText = results[at + 1] as RenderResult;
    if (!subject.ok) return { ok: false, part: 'subject', error: subject.error };
    if (!htmlText.ok) return { ok: false, part: 'htmlText', error: htmlText.error };
    if (!version.plainText) return { ok: true, languageCode: version.languageCode, subject: subject.output, htmlText: htmlText.output };
    const plainText = results[at + 2] as RenderResult;
    if (!plainText.ok) return { ok: false, part: 'plainText', error: plainText.error };
    return { ok: true, languageCode: version.languageCode, subject: subject.output, htmlText: htmlText.output, plainText: plainText.output };
  });
}
