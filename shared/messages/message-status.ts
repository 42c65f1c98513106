import type { Pool } from 'pg';

/**
 * What became of one send, as eSputnik's message status methods answer it, read from the
 * send and the activities recorded for it (one iid per send, seed 001).
 */
export const deliveryStatuses = [
  'PENDING',
  'SUPPRESSED',
  'SENT',
  'UNDELIVERED',
  'BOUNCED',
  'DELIVERED',
  'READ',
  'CLICKED',
  'SPAM',
  'UNSUBSCRIBED',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export interface SendStatus {
  readonly requestId: string;
  readonly messageId: number;
  readonly contactId: number | null;
  readonly locator: string;
  readonly mediaType: string;
  /** The furthest the recipient went: unsubscribed or spam > clicked > read > delivered > bounced/undelivered > sent. */
  readonly status: DeliveryStatus;
  readonly statusDescription: string | null;
  readonly sendDate: string;
  readonly statusDate: string;
  /** Every outcome in the order it happened. */
  readonly events: readonly { readonly status: DeliveryStatus; readonly date: string }[];
}

const RANK: Readonly<Record<DeliveryStatus, number>> = {
  PENDING: 0,
  SUPPRESSED: 1,
  SENT: 2,
  UNDELIVERED: 3,
  BOUNCED: 3,
  DELIVERED: 4,
  READ: 5,
  CLICKED: 6,
  SPAM: 7,
  UNSUBSCRIBED: 7,
};

function statusOfActivity(activityStatus: string, hardBounce: boolean | null): DeliveryStatus | undefined {
  switch (activityStatus) {
    case 'SENT':
      return 'SENT';
    case 'DELIVERED':
      return 'DELIVERED';
    case 'UNDELIVERED':
      return hardBounce ? 'BOUNCED' : 'UNDELIVERED';
    case 'RECEIVED':
      return 'READ';
    case 'CLICKED':
      return 'CLICKED';
    case 'SPAM':
      return 'SPAM';
    case 'UNSUBSCRIBED':
      return 'UNSUBSCRIBED';
    default:
      return undefined;
  }
}

/**
 * The status of each send named by its requestId (the iid its SENT activity carries),
 * optionally of one channel only (the per-channel status methods). Email sends and SMS/Viber
 * sends (text_sends) alike; unknown ids are left out.
 */
export async function sendStatuses(db: Pool, accountId: number, requestIds: readonly string[], mediaType?: string): Promise<SendStatus[]> {
  const { rows } = await db.query<{
    iid: string;
    message_id: number;
    contact_id: number | null;
    recipient: string;
    media_type: string;
    state: string;
    last_error: string | null;
    created_at: Date;
    activities: { status: string; hardBounce: boolean | null; description: string | null; at: string }[];
  }>(
    `SELECT a.iid::text AS iid, s.message_id, s.contact_id, s.recipient, a.media_type, s.state, s.last_error, s.created_at,
            (SELECT coalesce(json_agg(json_build_object('status', o.activity_status, 'hardBounce', o.hard_bounce, 'description', o.status_description, 'at', o.occurred_at)
                                      ORDER BY o.occurred_at, o.id), '[]'::json)
               FROM contact_activities o WHERE o.account_id = s.account_id AND o.iid = a.iid) AS activities
       FROM contact_activities a
       JOIN (SELECT id, account_id, activity_id, message_id, contact_id, recipient, state, last_error, created_at FROM message_sends
             UNION ALL
             SELECT id, account_id, activity_id, message_id, contact_id, recipient, state, last_error, created_at FROM text_sends) s ON s.activity_id = a.id
      WHERE a.account_id = $1 AND a.activity_status = 'SENT' AND a.iid::text = ANY($2::text[]) AND ($3::text IS NULL OR a.media_type = $3)
      ORDER BY s.created_at, s.id`,
    [accountId, requestIds.map((id) => id.toLowerCase()), mediaType ?? null],
  );
  return rows.map((row) => {
    const events: { status: DeliveryStatus; date: string; description: string | null }[] = [];
    for (const activity of row.activities) {
      const status = statusOfActivity(activity.status, activity.hardBounce);
      if (status) events.push({ status, date: new Date(activity.at).toISOString(), description: activity.description });
    }
    // The SENT activity is written when the send is recorded; until the channel has it, it is pending.
    const sentEvent = events.find((event) => event.status === 'SENT');
    if (sentEvent && (row.state === 'pending' || row.state === 'sending')) sentEvent.status = 'PENDING';
    if (row.state === 'suppressed')
      events.push({ status: 'SUPPRESSED', date: sentEvent?.date ?? row.created_at.toISOString(), description: row.last_error });
    const furthest = events.reduce<(typeof events)[number] | undefined>(
      (best, event) => (!best || RANK[event.status] >= RANK[best.status] ? event : best),
      undefined,
    );
    return {
      requestId: row.iid,
      messageId: Number(row.message_id),
      contactId: row.contact_id === null ? null : Number(row.contact_id),
      locator: row.recipient,
      mediaType: row.media_type,
      status: furthest?.status ?? 'PENDING',
      statusDescription: furthest?.description ?? (row.state === 'failed' ? row.last_error : null),
      sendDate: row.created_at.toISOString(),
      statusDate: furthest?.date ?? row.created_at.toISOString(),
      events: events.map(({ status, date }) => ({ status, date })),
    };
  });
}

/** The requestId (SENT activity's iid) of each send, by send id. */
export async function requestIdsOf(db: Pool, sendIds: readonly number[]): Promise<Map<number, string>> {
  if (sendIds.length === 0) return new Map();
  const { rows } = await db.query<{ id: number; iid: string }>(
    'SELECT s.id, a.iid::text AS iid FROM message_sends s JOIN contact_activities a ON a.id = s.activity_id WHERE s.id = ANY($1::bigint[])',
    [sendIds],
  );
  return new Map(rows.map((row) => [Number(row.id), row.iid]));
}
