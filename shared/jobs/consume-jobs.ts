import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from '../logger';

export interface JobBudget {
  /** Milliseconds left in this invocation: a long job checkpoints and re-enqueues before it runs out. */
  remainingMs(): number;
}

export interface JobConsumer<J> {
  /** What the queue carries, for the logs: "export job", "broadcast job". */
  readonly name: string;
  readonly schema: z.ZodType<J>;
  readonly run: (job: J, budget: JobBudget) => Promise<void>;
  /**
   * The queue's maxReceiveCount: when a job fails on that receive, SQS moves it to the
   * dead-letter queue next, so `onLastFailure` records the failure where users look.
   */
  readonly lastReceive?: number;
  readonly onLastFailure?: (job: J, error: unknown) => Promise<void>;
}

export type JobHandler = (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse>;

/**
 * The one way a queue consumer works through its records: each body is parsed with the
 * job's schema (a message that is not a job fails every time, so SQS dead-letters it), each
 * job runs on its own, and failures are reported per record as batch item failures.
 */
export function consumeJobs<J>(consumer: JobConsumer<J>): JobHandler {
  return async (event, context) => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const job = parseJob(consumer.schema, record.body);
      if (job === undefined) {
        logger.error(`poisoned message: not a ${consumer.name}`, {
          messageId: record.messageId,
          receiveCount: record.attributes.ApproximateReceiveCount,
        });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        await consumer.run(job, { remainingMs: () => context.getRemainingTimeInMillis() });
      } catch (error) {
        logger.error(`${consumer.name} failed`, { messageId: record.messageId, job: JSON.stringify(job).slice(0, 200), error: String(error) });
        if (
          consumer.onLastFailure &&
          consumer.lastReceive !== undefined &&
          Number(record.attributes.ApproximateReceiveCount) >= consumer.lastReceive
        ) {
          await consumer
            .onLastFailure(job, error)
            .catch((failure: unknown) =>
              logger.error(`could not record the ${consumer.name}'s last failure`, { messageId: record.messageId, error: String(failure) }),
            );
        }
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

function parseJob<J>(schema: z.ZodType<J>, body: string): J | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
