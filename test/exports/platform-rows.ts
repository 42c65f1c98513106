import type { Pool, PoolClient } from 'pg';

type Db = Pool | PoolClient;

/** Platform rows of every exported kind for one account, written with SQL as the contacts API would. */
export async function insertContact(
  db: Db,
  accountId: number,
  values: { externalCustomerId?: string; firstName?: string; email?: string; sms?: string } = {},
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO contacts (account_id, external_customer_id, first_name, last_name, language_code, email_status, total_sent, last_sent_at, created_at)
     VALUES ($1, $2, $3, 'Kozak', 'uk', 'ACTIVE', 3, '2021-10-08 11:11:02.345+00', '2021-10-01 08:00:00+00') RETURNING id`,
    [accountId, values.externalCustomerId ?? null, values.firstName ?? 'Dina'],
  );
  const id = rows[0]!.id;
  if (values.email) {
    await db.query(`INSERT INTO contact_channels (account_id, contact_id, type, value, normalized) VALUES ($1, $2, 'email', $3, lower($3))`, [
      accountId,
      id,
      values.email,
    ]);
  }
  if (values.sms) {
    await db.query(`INSERT INTO contact_channels (account_id, contact_id, type, value, normalized) VALUES ($1, $2, 'sms', $3, $3)`, [
      accountId,
      id,
      values.sms,
    ]);
  }
  return id;
}

export async function insertMessage(db: Db, accountId: number, name = 'Welcome'): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO messages (account_id, name, media_type, subject, sender, reply_to, tags, language, annoyance_level, updated_at)
     VALUES ($1, $2, 'Email', 'Hello', 'shop@example.com', 'reply@example.com', '{promo,autumn}', 'uk', 2, '2021-10-08 11:11:02+00') RETURNING id`,
    [accountId, name],
  );
  return rows[0]!.id;
}

export async function insertBroadcast(db: Db, accountId: number, messageId: number): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO broadcasts (account_id, message_id, name, media_type, group_ids, status, started_at, created_at, updated_at)
     VALUES ($1, $2, 'Autumn sale', 'Email', '{170531841}', 'IDLE', '2021-10-08 11:11:02+00', '2021-10-07 10:00:00+00', '2021-10-08 12:00:00+00') RETURNING id`,
    [accountId, messageId],
  );
  return rows[0]!.id;
}

export async function insertActivity(
  db: Db,
  accountId: number,
  values: { contactId: number; messageId?: number; broadcastId?: number; status?: string; occurredAt?: string },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO contact_activities (account_id, contact_id, activity_status, media_type, occurred_at, external_customer_id, message_id,
       message_instance_id, message_name, message_tags, message_language_code, message_url, broadcast_id, campaign_type,
       click_event_link, status_description, sender_name, utm_campaign, source_event_key, source_event_type_key,
       workflow_id, workflow_block_id, workflow_instance_id)
     VALUES ($1, $2, $3, 'Email', $4, 'ext-1', $5, 77, 'Welcome', 'promo', 'uk', 'https://example.com/web', $6, 'Group',
       'https://shop.example.com/a', '550 mailbox full', 'Shop', 'autumn', 'ev-1', 'purchase', 12, 'block-3', 'wi-9')
     RETURNING id`,
    [
      accountId,
      values.contactId,
      values.status ?? 'CLICKED',
      values.occurredAt ?? '2021-10-08 11:11:02+00',
      values.messageId ?? null,
      values.broadcastId ?? null,
    ],
  );
  return rows[0]!.id;
}

export async function insertDevice(db: Db, accountId: number, contactId: number, deviceId: string): Promise<void> {
  await db.query(
    `INSERT INTO devices (account_id, contact_id, device_id, application_id, app_version, category, device_model, language_code, os_type, os_version, push_token, time_zone)
     VALUES ($1, $2, $3, 5, '2.1', 'phone', 'Pixel 8', 'uk', 'ANDROID', '14', $4, 'Europe/Kyiv')`,
    [accountId, contactId, deviceId, 'tok-'.padEnd(600, 'x')],
  );
}

export async function insertOrder(
  db: Db,
  accountId: number,
  values: { contactId: number; externalOrderId: string; orderedAt?: string; totalCost?: string },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO orders (account_id, contact_id, external_order_id, external_customer_id, status, total_cost, discount, currency, delivery_address,
       delivery_method, payment_method, email, phone, first_name, last_name, ordered_at, created_at)
     VALUES ($1, $2, $3, 'ext-1', 'DELIVERED', $4, 5, 'UAH', 'Kyiv', 'courier', 'card', 'dina@example.com', '380501234567', 'Dina', 'Kozak', $5, '2024-05-01 10:00:00+00')
     RETURNING id`,
    [accountId, values.contactId, values.externalOrderId, values.totalCost ?? '120.50', values.orderedAt ?? '2024-05-01 09:30:00+00'],
  );
  const id = rows[0]!.id;
  await db.query(
    `INSERT INTO order_items (account_id, order_id, external_product_id, name, description, cost, quantity, url, image_url)
     VALUES ($1, $2, 'sku-1', 'Scarf', 'Warm scarf', 60.25, 2, 'https://shop.example.com/scarf', 'https://shop.example.com/scarf.jpg')`,
    [accountId, id],
  );
  return id;
}

export async function attributeRevenue(db: Db, accountId: number, orderId: number, activityId: number): Promise<void> {
  await db.query('INSERT INTO revenue_attributions (account_id, order_id, activity_id) VALUES ($1, $2, $3)', [accountId, orderId, activityId]);
}

/** One row of every dataset for the account. */
export async function insertOneOfEach(
  db: Db,
  accountId: number,
  tag: string,
): Promise<{ contactId: number; orderId: number; activityId: number; messageId: number }> {
  const contactId = await insertContact(db, accountId, { externalCustomerId: `ext-${tag}`, email: `dina.${tag}@example.com`, sms: '380501234567' });
  const messageId = await insertMessage(db, accountId);
  const broadcastId = await insertBroadcast(db, accountId, messageId);
  const activityId = await insertActivity(db, accountId, { contactId, messageId, broadcastId });
  await insertDevice(db, accountId, contactId, `device-${tag}`);
  const orderId = await insertOrder(db, accountId, { contactId, externalOrderId: `order-${tag}` });
  await attributeRevenue(db, accountId, orderId, activityId);
  return { contactId, orderId, activityId, messageId };
}
