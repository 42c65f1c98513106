import type { SendOutcome } from '../../ports/email-channel';

/** How one AWS sending API names its refusals. */
export interface RefusalNames {
  /** Errors that retrying cannot fix. */
  readonly permanent: ReadonlySet<string>;
  /** "Slow down": the account's rate or quota. */
  readonly throttling: ReadonlySet<string>;
  /** Said when the error carries no message. */
  readonly fallback: string;
  /** Whether a permanent refusal is the recipient's (a bad number) rather than ours. */
  readonly permanentIsRecipients: boolean;
}

/**
 * A send call an AWS SDK client refused, as the send's outcome: throttled (HTTP 429 or a
 * throttling error: wait, not a try), permanent (no retry), or refused for now.
 */
export function refusedSend(error: unknown, names: RefusalNames): SendOutcome {
  const failure = (error ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = failure.name ?? 'Error';
  const description = `${name}: ${failure.message ?? names.fallback}`.slice(0, 1000);
  const throttled = names.throttling.has(name) || failure.$metadata?.httpStatusCode === 429;
  const permanent = !throttled && names.permanent.has(name);
  return { kind: 'rejected', permanent, throttled, recipientRejected: permanent && names.permanentIsRecipients, description };
}
