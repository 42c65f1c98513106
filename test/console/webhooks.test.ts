import { answerDialog, screenshot, seriousAccessibilityViolations, signIn } from '../support/browser';
import { waitUntil } from '../support/wait-until';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { numberedActivity, recordActivities } from '../webhooks/activities';
import { consoleFixture } from './console-fixture';

// Moves the platform's clock (not the real one): a lane is parked when its retries would outlive SQS's retention.
let clockOffsetMs = 0;
const fixture = consoleFixture({
  stack: {
    env: { WEBHOOK_RETRY_BASE_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '1000' },
    clock: { now: () => new Date(Date.now() + clockOffsetMs) },
  },
});
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const webhook = async () => (await fixture.stack.request(fixture.user.account, 'GET', '/api/v1/webhook')).body;

it("sets the webhook URL (verification result shown), shows the secret once and rotates it, shows a failing receiver's next retry and schedule, then suspended, resumes and replays", async () => {
  const { stack, user } = fixture;
  const { page, problems } = await fixture.signedInAt('Webhooks');
  await page.getByText('No webhook yet.').waitFor();

  // The verification GET fails: the cause is shown at the URL.
  receiver.failNext(1, { status: 500 });
  await page.getByLabel('Webhook URL').fill(receiver.url);
  await page.getByRole('button', { name: 'Save' }).click();
  await page
    .locator('.field', { has: page.getByLabel('Webhook URL') })
    .locator('.field-error')
    .filter({ hasText: 'HTTP 500' })
    .waitFor();

  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'The URL answered our verification request and was saved.' }).waitFor();
  await page.getByText(/^Verified /).waitFor();

  // The secret is answered once, when the webhook is made: shown now, gone after, a hint left.
  const secretShown = page.getByLabel('Signing secret', { exact: true });
  const first = (await secretShown.textContent()) ?? '';
  expect(first).toMatch(/^whsec_/);
  expect((await webhook()).secret).toBeUndefined();
  expect((await webhook()).secretHint).toBe(`whsec_…${first.slice(-4)}`);
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await page
    .getByLabel('Signing secret hint')
    .filter({ hasText: first.slice(-4) })
    .waitFor();
  expect(await secretShown.count()).toBe(0);
  await answerDialog(page, true, () => page.getByRole('button', { name: 'Rotate secret' }).click());
  await page.getByRole('status').filter({ hasText: 'A new signing secret was made.' }).waitFor();
  const rotated = (await secretShown.textContent()) ?? '';
  expect(rotated).toMatch(/^whsec_/);
  expect(rotated).not.toBe(first);
  expect((await webhook()).secretHint).toBe(`whsec_…${rotated.slice(-4)}`);

  // The receiver fails for good: the screen shows the failure streak, when the next try comes and the schedule.
  receiver.failAlways({ status: 502, body: 'bad gateway from the receiver' });
  await recordActivities(stack, user.account.accountId, [numberedActivity(1)]);
  await waitUntil(async () => (await webhook()).consecutiveFailures >= 1, 'the first failure being counted');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByText(/^\d+ failed attempts? in a row; next attempt at \S/).waitFor();
  // WEBHOOK_RETRY_BASE_SECONDS=1: the server's schedule in seconds instead of minutes.
  await page.getByText('after 1 s, 2 s, 4 s, 8 s, 16 s, 32 s, then every 1 min (each ± 10 %)').waitFor();
  await screenshot(page, 'webhooks-failing');
  // Then the lane is parked and the webhook suspended.
  clockOffsetMs = 14 * 24 * 3600 * 1000;
  await waitUntil(async () => (await webhook()).state === 'suspended', 'the lane being parked', 15_000);
  // Fourteen days on, the console's session has ended too: sign in again, back on the same screen.
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
  await signIn(page, user);
  await page.getByRole('status').filter({ hasText: 'Delivery is suspended' }).waitFor();
  const failed = page.getByRole('row', { name: /Failed \(HTTP 502\)/ }).first();
  await failed.waitFor();
  expect(await failed.textContent()).toContain('bad gateway from the receiver');
  expect(await seriousAccessibilityViolations(page)).toEqual([]);
  await screenshot(page, 'webhooks-suspended');

  receiver.recover();
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.getByRole('status').filter({ hasText: 'Delivery resumed; 1 waiting activity is being sent.' }).waitFor();
  await receiver.waitFor(() => receiver.acceptedActivities().length === 1);
  await waitUntil(async () => (await webhook()).pendingActivities === 0, 'the delivered activity leaving the outbox');
  await page.getByRole('button', { name: 'Refresh' }).click();
  const delivered = page.getByRole('row', { name: /Delivered \(HTTP 200\)/ }).first();
  await delivered.waitFor();
  expect(await page.getByText('Delivery is suspended').count()).toBe(0);

  // Replay the delivered attempt: its activity reaches the receiver once more.
  await delivered.getByRole('button', { name: /^Replay/ }).click();
  await page.getByRole('status').filter({ hasText: '1 activity was queued to be sent again.' }).waitFor();
  await receiver.waitFor(() => receiver.acceptedActivities().length === 2);
  expect(receiver.acceptedActivities().map((activity) => activity.email)).toEqual(['n1@example.com', 'n1@example.com']);
  expect(problems).toEqual([]);
});
