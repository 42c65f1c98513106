import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { ListTable, SubmitForm, useSubmission } from '../forms';
import { confirmed, Field, LoadState, Notice, problemOf, sentence, useLoad } from '../ui';

interface RetrySchedule {
  readonly delaysSeconds: readonly number[];
  readonly thenEverySeconds: number;
  readonly jitterRatio: number;
}

interface Webhook {
  readonly url: string;
  readonly state: 'active' | 'suspended';
  readonly secretHint: string;
  readonly previousSecretExpiresAt?: string;
  readonly consecutiveFailures: number;
  readonly nextAttemptAt?: string;
  readonly retrySchedule: RetrySchedule;
  readonly pendingActivities: number;
  readonly suspendedAt?: string;
  readonly suspendedReason?: string;
  readonly verifiedAt: string;
}

interface Attempt {
  readonly id: number;
  readonly attemptedAt: string;
  readonly activityCount: number;
  readonly firstActivityId?: number;
  readonly lastActivityId?: number;
  readonly delivered: boolean;
  readonly statusCode?: number;
  readonly error?: string;
  readonly latencyMs: number;
  readonly responseExcerpt?: string;
}

/** Undefined when the account has no webhook (404 WEBHOOK_NOT_SET): the empty state, not an error. */
async function loadWebhook(): Promise<{ webhook?: Webhook; attempts: Attempt[] }> {
  try {
    const webhook = await call<Webhook>('GET', '/api/v1/webhook');
    const { attempts } = await call<{ attempts: Attempt[] }>('GET', '/api/v1/webhook/attempts?limit=50');
    return { webhook, attempts };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'WEBHOOK_NOT_SET') return { attempts: [] };
    throw error;
  }
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The server's schedule in words: "1 min, 2 min, … then every 1 h (± 10 %)". */
function scheduleInWords(schedule: RetrySchedule): string {
  return `${schedule.delaysSeconds.map(duration).join(', ')}, then every ${duration(schedule.thenEverySeconds)} (each ± ${Math.round(
    schedule.jitterRatio * 100,
  )} %)`;
}

/** The activities of an attempt, when they are one unbroken run of ids (then they can be sent again). */
function replayableIds(attempt: Attempt): number[] | undefined {
  const { firstActivityId: first, lastActivityId: last } = attempt;
  if (first === undefined || last === undefined || last - first + 1 !== attempt.activityCount) return undefined;
  return Array.from({ length: attempt.activityCount }, (_, index) => first + index);
}

export function WebhooksScreen() {
  const loaded = useLoad(loadWebhook);
  const [url, setUrl] = useState<string | undefined>();
  // The API answers the secret once (when it is made); it lives here until the screen is left.
  const [secret, setSecret] = useState<string | undefined>();
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  const act = async (work: () => Promise<string>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      setMessage({ kind: 'success', text: await work() });
    } catch (failure) {
      setMessage({ kind: 'error', text: problemOf(failure) });
    }
    setBusy(false);
    loaded.reload();
  };

  const submission = useSubmission(async () => {
    setMessage(undefined);
    const saved = await call<{ secret?: string }>('PUT', '/api/v1/webhook', { url: url ?? loaded.data?.webhook?.url ?? '' });
    if (saved.secret) setSecret(saved.secret);
    setMessage({ kind: 'success', text: 'The URL answered our verification request and was saved.' });
    setUrl(undefined);
    loaded.reload();
  });
  // The verification's failure belongs to the URL: shown there rather than at the top of the form.
  const { error } = submission;
  const urlError =
    error instanceof ApiError ? (error.fieldMessage('url') ?? (error.status !== 401 ? sentence(error.message) : undefined)) : undefined;

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <p class="lead">
        Satellite sends every contact activity (delivered, opened, clicked, bounced…) to your URL as it happens, signed with a secret.
      </p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <LoadState loaded={loaded} what="the webhook">
        {({ webhook, attempts }) => (
          <>
            {!webhook && (
              <p class="empty">No webhook yet. Enter the URL of your receiver: Satellite checks it with a GET request, which must answer 2xx.</p>
            )}
            <SubmitForm submission={submission} notice={false}>
              <Field label="Webhook URL" type="url" value={url ?? webhook?.url ?? ''} onInput={setUrl} error={urlError} required />
              <div class="actions">
                <button type="submit" disabled={busy || submission.busy}>
                  {submission.busy ? 'Verifying…' : 'Save'}
                </button>
                {webhook && (
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    onClick={() =>
                      confirmed('Delete the webhook? Activities stop being sent.') &&
                      void act(async () => {
                        await call('DELETE', '/api/v1/webhook');
                        setSecret(undefined);
                        return 'The webhook was deleted.';
                      })
                    }
                  >
                    Delete webhook
                  </button>
                )}
              </div>
            </SubmitForm>
            {webhook && (
              <>
                <dl>
                  <dt>Verification</dt>
                  <dd>Verified {new Date(webhook.verifiedAt).toLocaleString()}</dd>
                  <dt>State</dt>
                  <dd>
                    {webhook.state === 'active'
                      ? 'Active'
                      : `Suspended since ${new Date(webhook.suspendedAt ?? webhook.verifiedAt).toLocaleString()}`}
                    {webhook.pendingActivities > 0 &&
                      `; ${webhook.pendingActivities} ${webhook.pendingActivities === 1 ? 'activity' : 'activities'} waiting`}
                  </dd>
                  {webhook.consecutiveFailures > 0 && (
                    <>
                      <dt>Failing</dt>
                      <dd>
                        {webhook.consecutiveFailures} failed {webhook.consecutiveFailures === 1 ? 'attempt' : 'attempts'} in a row
                        {webhook.nextAttemptAt && `; next attempt at ${new Date(webhook.nextAttemptAt).toLocaleString()}`}
                      </dd>
                    </>
                  )}
                  <dt>Retries</dt>
                  <dd>After a failure, the same request is sent again after {scheduleInWords(webhook.retrySchedule)}, until it succeeds.</dd>
                </dl>
                {webhook.state === 'suspended' && (
                  <Notice kind="warning">
                    Delivery is suspended: {webhook.suspendedReason ? sentence(webhook.suspendedReason) : 'your receiver kept failing.'} Fix the
                    receiver, then choose Resume: the waiting activities are sent in order.
                    <div class="actions">
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() =>
                          void act(async () => {
                            const { replayed } = await call<{ replayed: number }>('POST', '/api/v1/webhook/resume');
                            return `Delivery resumed; ${replayed} waiting ${replayed === 1 ? 'activity is' : 'activities are'} being sent.`;
                          })
                        }
                      >
                        Resume
                      </button>
                    </div>
                  </Notice>
                )}
                <h2>Signing secret</h2>
                <p class="hint">Your receiver checks each request’s webhook-signature header with this secret.</p>
                {secret ? (
                  <Notice kind="warning">
                    Copy the signing secret now: it is not shown again.{' '}
                    <code class="secret" aria-label="Signing secret">
                      {secret}
                    </code>
                  </Notice>
                ) : (
                  <p>
                    Secret ending in <code aria-label="Signing secret hint">{webhook.secretHint}</code>. Lost it? Rotate it to get a new one.
                  </p>
                )}
                {webhook.previousSecretExpiresAt && (
                  <p class="hint">The previous secret keeps signing too until {new Date(webhook.previousSecretExpiresAt).toLocaleString()}.</p>
                )}
                <div class="actions">
                  {secret && (
                    <button type="button" class="secondary" onClick={() => setSecret(undefined)}>
                      I have copied it
                    </button>
                  )}
                  <button
                    type="button"
                    class="secondary"
                    disabled={busy}
                    onClick={() =>
                      confirmed('Rotate the signing secret? The old one keeps signing beside the new one for 24 hours.') &&
                      void act(async () => {
                        setSecret((await call<{ secret: string }>('POST', '/api/v1/webhook/secret')).secret);
                        return 'A new signing secret was made. Update your receiver within 24 hours.';
                      })
                    }
                  >
                    Rotate secret
                  </button>
                </div>
                <h2>Delivery attempts</h2>
                <div class="actions">
                  <button type="button" class="secondary" onClick={loaded.reload}>
                    Refresh
                  </button>
                </div>
                {attempts.length === 0 ? (
                  <p class="empty">No delivery attempt yet. Attempts appear here as activities are sent.</p>
                ) : (
                  <ListTable caption="Delivery attempts, newest first" columns={['Time', 'Result', 'Latency', 'Response', 'Activities']} withActions>
                    {attempts.map((attempt) => {
                      const ids = replayableIds(attempt);
                      return (
                        <tr key={attempt.id}>
                          <td>{new Date(attempt.attemptedAt).toLocaleString()}</td>
                          <td>
                            {attempt.delivered
                              ? `Delivered (HTTP ${attempt.statusCode ?? 200})`
                              : attempt.statusCode
                                ? `Failed (HTTP ${attempt.statusCode})`
                                : `Failed (${attempt.error ?? 'no answer'})`}
                          </td>
                          <td>{attempt.latencyMs} ms</td>
                          <td>
                            <code>{attempt.responseExcerpt ?? '—'}</code>
                          </td>
                          <td>
                            {attempt.activityCount}{' '}
                            {attempt.firstActivityId !== undefined &&
                              `(ids ${attempt.firstActivityId}${attempt.lastActivityId !== attempt.firstActivityId ? `–${attempt.lastActivityId}` : ''})`}
                          </td>
                          <td>
                            {ids && (
                              <button
                                type="button"
                                class="secondary"
                                aria-label={`Replay attempt ${attempt.id}`}
                                disabled={busy}
                                onClick={() =>
                                  void act(async () => {
                                    const { queued } = await call<{ queued: number }>('POST', '/api/v1/webhook/redeliver', { activityIds: ids });
                                    return `${queued} ${queued === 1 ? 'activity was' : 'activities were'} queued to be sent again.`;
                                  })
                                }
                              >
                                Replay
                              </button>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </ListTable>
                )}
              </>
            )}
          </>
        )}
      </LoadState>
    </section>
  );
}
