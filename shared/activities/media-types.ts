/**
 * The media types, spelled as seed 000 lists them (Telegram from seed 001). Reporters send
 * them in any case and spacing (seed 001's own examples send `email`, `viber`); each is
 * stored in this one spelling, so exports group by channel without folding case. Migration
 * 607 rewrote the rows recorded before with the same table. Webhooks and the activity list
 * speak seed 001's examples instead (`webhookMediaType` in webhooks/payload.ts).
 */
export const mediaTypes = ['SMS', 'Email', 'Web Push', 'Viber', 'Mobile Push', 'AppInbox', 'Widget', 'In-App', 'Telegram'] as const;
export type MediaType = (typeof mediaTypes)[number];

/** Letters and digits only, lower-cased: `Web Push`, `webpush`, `WEB_PUSH` and `web-push` are one. */
function folded(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const byFolded = new Map<string, MediaType>(mediaTypes.map((type) => [folded(type), type]));

/** The stored spelling of a media type as a reporter wrote it, or undefined for one that is none. */
export function canonicalMediaType(value: string): MediaType | undefined {
  return byFolded.get(folded(value));
}
