import { getConnector, type Connector } from '../connectors/connector';
import type { Platform } from '../platform';
import { keysOfContacts } from '../segments/evaluate-segment';
import { lookupRows, type Row } from '../sources/lookup';
import { listSources, type Source } from '../sources/sources';

/**
 * `$data` of a bulk campaign: `$data.<sourceName>` (or `$data.get('<sourceName>')`) is the
 * rows of that source whose unique-key column equals the contact's mapped contact field.
 * Written once for the broadcast worker and the preview, so a preview shows what a send sends.
 */
export interface BulkSources {
  readonly sources: readonly Source[];
  /** Each source's connector, by source id. */
  readonly connectors: ReadonlyMap<number, Connector>;
}

/** The account's sources whose name the templates mention, with their connectors. */
export async function bulkSourcesReadBy(platform: Platform, accountId: number, templates: readonly string[]): Promise<BulkSources> {
  const text = templates.join('\n');
  const sources = (await listSources(platform.db, accountId)).filter((source) => text.includes(source.name));
  const connectors = new Map(
    await Promise.all(sources.map(async (source) => [source.id, await getConnector(platform.db, accountId, source.connectorId)] as const)),
  );
  return { sources, connectors };
}

/** Each contact's `$data`, with one lookup per source for all of them, never one query per contact. */
export async function bulkDataOf(
  platform: Platform,
  accountId: number,
  { sources, connectors }: BulkSources,
  contactIds: readonly number[],
): Promise<Map<number, Record<string, Row[]>>> {
  const dataByContact = new Map<number, Record<string, Row[]>>(contactIds.map((id) => [id, {}]));
  for (const source of sources) {
    const connector = connectors.get(source.id);
    if (!connector) continue;
    const keys = await keysOfContacts(platform.db, accountId, connector.uniqueKey.contactField, contactIds);
    const found = await lookupRows(platform, source, keys);
    for (const contact of keys) {
      const data = dataByContact.get(contact.contactId);
      // defineProperty: a source named `__proto__` stays a key.
      if (data) Object.defineProperty(data, source.name, { value: contact.key === null ? [] : (found.get(contact.key) ?? []), enumerable: true });
    }
  }
  return dataByContact;
}
