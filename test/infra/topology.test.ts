import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connectorValidationRoutes } from '../../functions/api/routes/connectors';
import { SatelliteFunction } from '../../infra/constructs/satellite-function';
import { SatelliteStack } from '../../infra/satellite-stack';
import { localQueues, localScheduleTargets } from '../../local/topology';
import { queueUrlVariables, scheduleTargetVariable } from '../../shared/config';
import { fixedSchedules, queueAlarms, queueList, scheduleTargets, type QueueName, type ScheduleTargetName } from '../../shared/topology';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * The deployed stack (synthesised) and the local runtime (started) must be the same stack:
 * each queue with its worker, timeout, batch size, FIFO-ness, receive count, visibility and
 * retention, each fixed schedule and each schedule target. Each side is read as it is built,
 * the deployed one from the template, the local one from the SQS server and the scheduler's
 * table, so a construct or a local runtime that stops reading `shared/topology.ts` fails here.
 */

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

interface QueueFacts {
  readonly worker: string;
  readonly workerTimeoutSeconds: number;
  readonly batchSize: number;
  readonly fifo: boolean;
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
}

interface ScheduleFacts {
  readonly expression: string;
  readonly worker: string;
  readonly timeoutSeconds: number;
}

let stack: Stack;
let resources: Record<string, Resource>;
let local: TestStack;

beforeAll(async () => {
  const { context } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  // No bundling: the wiring is all this file reads, and esbuild for every function takes minutes.
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  stack = new SatelliteStack(app, 'SatelliteTopology', { env: { account: '123456789012', region: 'eu-west-1' } });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  local = await startTestStack({ background: false });
}, 120_000);
afterAll(async () => {
  await local.stop();
});

/** Logical id → the `functions/` folder of each Satellite function in the stack. */
function functionDirs(): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const construct of stack.node.findAll()) {
    if (construct instanceof SatelliteFunction) dirs.set(stack.getLogicalId(construct.node.defaultChild as never), construct.functionDir);
  }
  return dirs;
}

function resourcesOf(type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** The logical id an `Fn::GetAtt` or `Ref` points at. */
function target(reference: unknown): string {
  const value = reference as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  return value['Fn::GetAtt']?.[0] ?? value.Ref ?? '';
}

function apiVariables(): Record<string, unknown> {
  const [, api] = resourcesOf('AWS::Lambda::Function').find(([, fn]) => fn.Properties.Description === 'Satellite HTTP API')!;
  return (api.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

function deployedFunction(id: string): { worker: string; timeoutSeconds: number } {
  return { worker: functionDirs().get(id) ?? `(not a Satellite function: ${id})`, timeoutSeconds: resources[id]!.Properties.Timeout as number };
}

/**
 * A queue as the template declares it: found by the URL the API is given to send to it, or,
 * for a queue only AWS feeds (SES events through SNS), by the event source of its worker.
 */
function deployedQueue(name: QueueName): QueueFacts & { queueId: string } {
  const mappings = resourcesOf('AWS::Lambda::EventSourceMapping');
  const sentTo = apiVariables()[queueUrlVariables[name]];
  const queueId = sentTo
    ? target(sentTo)
    : target(
        mappings.find(
          ([, candidate]) =>
            deployedFunction(target(candidate.Properties.FunctionName)).worker === queueList.find((queue) => queue.name === name)!.worker,
        )![1].Properties.EventSourceArn,
      );
  const queue = resources[queueId]!.Properties;
  const [, mapping] = mappings.find(([, candidate]) => target(candidate.Properties.EventSourceArn) === queueId)!;
  const worker = deployedFunction(target(mapping.Properties.FunctionName));
  const redrive = queue.RedrivePolicy as { maxReceiveCount: number };
  return {
    queueId,
    worker: worker.worker,
    workerTimeoutSeconds: worker.timeoutSeconds,
    batchSize: mapping.Properties.BatchSize as number,
    fifo: queue.FifoQueue === true,
    maxReceiveCount: redrive.maxReceiveCount,
    visibilityTimeoutSeconds: queue.VisibilityTimeout as number,
    retentionSeconds: queue.MessageRetentionPeriod as number,
  };
}

/** The same queue as the local runtime created it on the SQS server and consumes it. */
async function localQueue(name: QueueName): Promise<QueueFacts> {
  const { Attributes: attributes = {} } = await local.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: local.queueUrls[name], AttributeNames: ['All'] }),
  );
  const consumer = localQueues.find((queue) => queue.name === name)!;
  return {
    worker: consumer.worker,
    workerTimeoutSeconds: consumer.workerTimeoutSeconds,
    batchSize: consumer.batchSize,
    fifo: attributes.FifoQueue === 'true',
    maxReceiveCount: Number((JSON.parse(attributes.RedrivePolicy ?? '{}') as { maxReceiveCount?: unknown }).maxReceiveCount),
    visibilityTimeoutSeconds: Number(attributes.VisibilityTimeout),
    retentionSeconds: Number(attributes.MessageRetentionPeriod),
  };
}

describe('the deployed and the local stack', () => {
  it('have the same queues', () => {
    const deployed = resourcesOf('AWS::SQS::Queue').filter(([, queue]) => queue.Properties.RedrivePolicy !== undefined).length;
    expect([deployed, localQueues.length]).toEqual([queueList.length, queueList.length]);
  });

  it.each(queueList.map((queue) => queue.name))('agree on the %s queue and its worker', async (name) => {
    const { queueId, ...deployed } = deployedQueue(name);
    expect(await localQueue(name)).toEqual(deployed);
    // Visibility outlasts the worker six times over, on both sides (checked equal above).
    expect(deployed.visibilityTimeoutSeconds).toBe(deployed.workerTimeoutSeconds * 6);

    // Alarms exist only on AWS: they hold the declared thresholds.
    const alarms = resourcesOf('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const onQueue = (id: string) => alarms.filter((alarm) => JSON.stringify(alarm.Dimensions ?? []).includes(`"${id}"`));
    // The webhooks queue declares no age (its messages wait in backoff by design).
    const maxAge = queueList.find((queue) => queue.name === name)!.maxMessageAgeSeconds;
    expect(onQueue(queueId).map((alarm) => [alarm.MetricName, alarm.Threshold, alarm.EvaluationPeriods, alarm.Period])).toEqual(
      maxAge === undefined ? [] : [['ApproximateAgeOfOldestMessage', maxAge, queueAlarms.oldestMessageEvaluationPeriods, queueAlarms.periodSeconds]],
    );
    const deadLetterQueueId = target((resources[queueId]!.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn);
    expect(onQueue(deadLetterQueueId).map((alarm) => [alarm.MetricName, alarm.Threshold])).toEqual([
      ['ApproximateNumberOfMessagesVisible', queueAlarms.deadLettersAbove],
    ]);
  });

  it('fire the same fixed schedules at the same functions', async () => {
    // Event-pattern rules (the rotation-failure alert) are not schedules.
    const deployed: ScheduleFacts[] = resourcesOf('AWS::Events::Rule')
      .filter(([, rule]) => rule.Properties.ScheduleExpression !== undefined)
      .map(([, rule]) => {
        const [ruleTarget] = rule.Properties.Targets as { Arn: unknown }[];
        const fn = deployedFunction(target(ruleTarget!.Arn));
        return { expression: rule.Properties.ScheduleExpression as string, worker: fn.worker, timeoutSeconds: fn.timeoutSeconds };
      });
    const { rows } = await local.platform.db.query<{ expression: string; target: ScheduleTargetName }>(
      'SELECT expression, target FROM local_schedules',
    );
    const running: ScheduleFacts[] = rows.map((row) => ({
      expression: row.expression,
      worker: localScheduleTargets[row.target].worker,
      timeoutSeconds: localScheduleTargets[row.target].timeoutSeconds,
    }));
    const order = (schedules: ScheduleFacts[]) => [...schedules].sort((a, b) => a.worker.localeCompare(b.worker));
    expect(order(running)).toEqual(order(deployed));
    expect(deployed).toHaveLength(fixedSchedules.length);
  });

  it('aim the schedules the API creates at the same functions', () => {
    const variables = apiVariables();
    const deployed = Object.keys(variables)
      .filter((variable) => variable.startsWith('SCHEDULE_TARGET_'))
      .map((variable) => deployedFunction(target(variables[variable])))
      .sort((a, b) => a.worker.localeCompare(b.worker));
    const dynamicTargets = (['exports', 'triggerEvents'] as const).map((name) => {
      expect(Object.keys(variables)).toContain(scheduleTargetVariable(name));
      return { worker: localScheduleTargets[name].worker, timeoutSeconds: localScheduleTargets[name].timeoutSeconds };
    });
    expect(deployed).toEqual(dynamicTargets.sort((a, b) => a.worker.localeCompare(b.worker)));
    expect(Object.keys(localScheduleTargets).sort()).toEqual(Object.keys(scheduleTargets).sort());
  });

  it('serve "check connection" on the same paths: its own function on AWS, the API locally', () => {
    const validator = [...functionDirs()].find(([, dir]) => dir === 'validate-connector')![0];
    const integrations = new Set(
      resourcesOf('AWS::ApiGatewayV2::Integration')
        .filter(([, integration]) => target(integration.Properties.IntegrationUri) === validator)
        .map(([id]) => id),
    );
    const deployed = resourcesOf('AWS::ApiGatewayV2::Route')
      .filter(([, route]) => [...integrations].some((id) => JSON.stringify(route.Properties.Target).includes(`"${id}"`)))
      .map(([, route]) => route.Properties.RouteKey as string)
      .sort();
    expect(deployed).toEqual(connectorValidationRoutes.map((route) => `${route.method} ${route.path}`).sort());
  });
});
