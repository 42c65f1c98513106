import type { Pool, PoolClient } from 'pg';
import * as z from 'zod';
import { timestampSchema } from '../activities/activity-schema';
import { channelTypes } from '../contacts/channels';
import { emailAddressSchema, externalCustomerIdSchema, phoneNumberSchema } from '../contacts/contact-schema';
import { resolveRecipients } from '../contacts/resolve-recipients';
import { addOrUpdateContact } from '../contacts/save-contact';
import { withTransaction } from '../store/transaction';
import { normalizePhone } from '../contacts/channels';

export const orderStatuses = ['INITIALIZED', 'IN PROGRESS', 'DELIVERED', 'CANCELED'] as const;

/** An order is attributed to the contact's latest click (else open) this long before it. */
export const ATTRIBUTION_WINDOW_DAYS = 7;

const money = z.number().finite().min(0).max(1e13);

export const orderItemSchema = z
  .object({
    externalProductId: z.string().trim().min(1).max(100),
    name: z.string().max(100).optional(),
    description: z.string().max(300).optional(),
    cost: money.optional(),
    quantity: z.number().int().min(1).max(1_000_000).default(1),
    url: z.string().max(200).optional(),
    imageUrl: z.string().max(200).optional(),
  })
  .strict();

/** Seed 000/003's order and order item fields. */
export const orderSchema = z
  .object({
    externalOrderId: z.string().trim().min(1).max(100),
    externalCustomerId: externalCustomerIdSchema.optional(),
    status: z.enum(orderStatuses),
    totalCost: money,
    discount: money.optional(),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, 'a three-letter currency code')
      .transform((code) => code.toUpperCase())
      .optional(),
    orderDate: timestampSchema,
    email: emailAddressSchema.optional(),
    phone: phoneNumberSchema.optional(),
    firstName: z.string().max(50).optional(),
    lastName: z.string().max(50).optional(),
    deliveryAddress: z.string().max(100).optional(),
    deliveryMethod: z.string().max(50).optional(),
    paymentMethod: z.string().max(50).optional(),
    /** Absent: the order's items stay as they are; given: they become exactly these. */
    items: z.array(orderItemSchema).max(1000).optional(),
  })
  .strict()
  .refine((order) => new Set((order.items ?? []).map((item) => item.externalProductId)).size === (order.items ?? []).length, {
    message: 'each externalProductId may appear once per order',
    path: ['items'],
  });
export type OrderInput = z.output<typeof orderSchema>;

export const MAX_ORDERS_PER_CALL = 1000;

export interface SavedOrder {
  readonly externalOrderId: string;
  readonly id: number;
  readonly contactId: number | null;
  /** The activity the order's revenue is attributed to, if any. */
  readonly activityId: number | null;
}

/**
 * Add orders: upserts each by externalOrderId, links it to its contact (externalCustomerId >
 * email > phone; a contact is created with source ORDER when none matches), and attributes
 * its revenue. A changed order moves its `updated_at`, so exports refresh it (and its
 * revenue row, for orders placed from 2024-03-09 on).
 */
export async function upsertOrders(db: Pool, accountId: number, orders: readonly OrderInput[]): Promise<SavedOrder[]> {
  const contactIds = await contactsOfOrders(db, accountId, orders);
  return withTransaction(db, async (client) => {
    const saved: SavedOrder[] = [];
    for (const [index, order] of orders.entries()) {
      saved.push(await upsertOrder(client, accountId, order, contactIds[index] ?? null));
    }
    return saved;
  });
}

async function contactsOfOrders(db: Pool, accountId: number, orders: readonly OrderInput[]): Promise<(number | null)[]> {
  const resolved = await resolveRecipients(
    db,
    accountId,
    orders.map((order) => ({ externalCustomerId: order.externalCustomerId, locator: order.email ?? order.phone })),
  );
  const result: (number | null)[] = [];
  for (const [index, order] of orders.entries()) {
    const found = resolved[index]?.contact?.id;
    if (found !== undefined) {
      result.push(found);
    } else if (order.externalCustomerId || order.email || order.phone) {
      const channels: { type: (typeof channelTypes)[number]; value: string }[] = [];
      if (order.email) channels.push({ type: 'email', value: order.email });
      if (order.phone) channels.push({ type: 'sms', value: order.phone });
      const contact = await addOrUpdateContact(
        db,
        accountId,
        { externalCustomerId: order.externalCustomerId, firstName: order.firstName, lastName: order.lastName, channels },
        'ORDER',
      );
      result.push(contact.id);
    } else {
      result.push(null);
    }
  }
  return result;
}

async function upsertOrder(client: PoolClient, accountId: number, order: OrderInput, contactId: number | null): Promise<SavedOrder> {
  const values = [
    accountId,
    order.externalOrderId,
    contactId,
    order.externalCustomerId ?? null,
    order.status,
    String(order.totalCost),
    order.discount === undefined ? null : String(order.discount),
    order.currency ?? null,
    order.deliveryAddress ?? null,
    order.deliveryMethod ?? null,
    order.paymentMethod ?? null,
    order.email ?? null,
    order.phone === undefined ? null : (normalizePhone(order.phone) ?? null),
    order.firstName ?? null,
    order.lastName ?? null,
    order.orderDate,
  ];
  // Only a real change moves updated_at; a repeated identical call leaves the order alone.
  const upserted = await client.query<{ id: number }>(
    `INSERT INTO orders (account_id, external_order_id, contact_id, external_customer_id, status, total_cost, discount, currency,
                         delivery_address, delivery_method, payment_method, email, phone, first_name, last_name, ordered_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (account_id, external_order_id) DO UPDATE SET
       contact_id = EXCLUDED.contact_id, external_customer_id = EXCLUDED.external_customer_id, status = EXCLUDED.status,
       total_cost = EXCLUDED.total_cost, discount = EXCLUDED.discount, currency = EXCLUDED.currency,
       delivery_address = EXCLUDED.delivery_address, delivery_method = EXCLUDED.delivery_method,
       payment_method = EXCLUDED.payment_method, email = EXCLUDED.email, phone = EXCLUDED.phone,
       first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, ordered_at = EXCLUDED.ordered_at,
       updated_at = now()
     WHERE (orders.contact_id, orders.external_customer_id, orders.status, orders.total_cost, orders.discount, orders.currency,
            orders.delivery_address, orders.delivery_method, orders.payment_method, orders.email, orders.phone,
            orders.first_name, orders.last_name, orders.ordered_at)
           IS DISTINCT FROM
           (EXCLUDED.contact_id, EXCLUDED.external_customer_id, EXCLUDED.status, EXCLUDED.total_cost, EXCLUDED.discount,
            EXCLUDED.currency, EXCLUDED.delivery_address, EXCLUDED.delivery_method, EXCLUDED.payment_method, EXCLUDED.email,
            EXCLUDED.phone, EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.ordered_at)
     RETURNING id`,
    values,
  );
  let orderId = upserted.rows[0]?.id;
  if (orderId === undefined) {
    const existing = await client.query<{ id: number }>('SELECT id FROM orders WHERE account_id = $1 AND external_order_id = $2', [
      accountId,
      order.externalOrderId,
    ]);
    orderId = existing.rows[0]?.id;
    if (orderId === undefined) throw new Error('order vanished during upsert');
  }
  if (order.items) await replaceItems(client, accountId, orderId, order.items);
  const activityId = await attributeRevenue(client, accountId, orderId, contactId, order.orderDate);
  return { externalOrderId: order.externalOrderId, id: orderId, contactId, activityId };
}

async function replaceItems(client: PoolClient, accountId: number, orderId: number, items: OrderInput['items'] & object): Promise<void> {
  const productIds = items.map((item) => item.externalProductId);
  // Marked, not deleted: the removal is a change exports carry to the customer's table (satelliteDeletedAt).
  await client.query(
    'UPDATE order_items SET deleted_at = now(), updated_at = now() WHERE order_id = $1 AND deleted_at IS NULL AND NOT (external_product_id = ANY($2::text[]))',
    [orderId, productIds],
  );
  if (items.length === 0) return;
  await client.query(
    `INSERT INTO order_items (account_id, order_id, external_product_id, name, description, cost, quantity, url, image_url)
     SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::numeric[], $7::int[], $8::text[], $9::text[])
     ON CONFLICT (order_id, external_product_id) DO UPDATE SET
       name = EXCLUDED.name, description = EXCLUDED.description, cost = EXCLUDED.cost, quantity = EXCLUDED.quantity,
       url = EXCLUDED.url, image_url = EXCLUDED.image_url, deleted_at = NULL, updated_at = now()
     WHERE order_items.deleted_at IS NOT NULL
        OR (order_items.name, order_items.description, order_items.cost, order_items.quantity, order_items.url, order_items.image_url)
           IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.cost, EXCLUDED.quantity, EXCLUDED.url, EXCLUDED.image_url)`,
    [
      accountId,
      orderId,
      productIds,
      items.map((item) => item.name ?? null),
      items.map((item) => item.description ?? null),
      items.map((item) => (item.cost === undefined ? null : String(item.cost))),
      items.map((item) => item.quantity),
      items.map((item) => item.url ?? null),
      items.map((item) => item.imageUrl ?? null),
    ],
  );
}

/**
 * The order's revenue goes to the contact's latest CLICKED activity in the window before the
 * order, else the latest RECEIVED (opened) one. Once attributed it stays. The row itself is
 * not rewritten here: a change to the order reaches the revenue export through the orders
 * trigger (migration 600), which follows seed 000's rule that only orders placed from
 * 2024-03-09 on update their revenue rows; an identical order sent again changes nothing.
 */
async function attributeRevenue(
  client: PoolClient,
  accountId: number,
  orderId: number,
  contactId: number | null,
  orderDate: Date,
): Promise<number | null> {
  const existing = await client.query<{ activity_id: number }>('SELECT activity_id FROM revenue_attributions WHERE order_id = $1', [orderId]);
  if (existing.rows[0]) return existing.rows[0].activity_id;
  if (contactId === null) return null;
  const attributed = await client.query<{ activity_id: number }>(
    `INSERT INTO revenue_attributions (account_id, order_id, activity_id)
     SELECT $1, $2, a.id FROM contact_activities a
      WHERE a.account_id = $1 AND a.contact_id = $3 AND a.activity_status IN ('CLICKED', 'RECEIVED')
        AND a.occurred_at <= $4 AND a.occurred_at > $4::timestamptz - make_interval(days => $5)
      ORDER BY a.activity_status = 'CLICKED' DESC, a.occurred_at DESC, a.id DESC
      LIMIT 1
     ON CONFLICT (order_id, activity_id) DO NOTHING
     RETURNING activity_id`,
    [accountId, orderId, contactId, orderDate, ATTRIBUTION_WINDOW_DAYS],
  );
  return attributed.rows[0]?.activity_id ?? null;
}
