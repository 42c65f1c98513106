import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { ConfigurationSet, ConfigurationSetEventDestination, EmailSendingEvent, EventDestination } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { fixedSchedules, queues, scheduleTargets } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction } from './satellite-function';
import type { SatelliteQueue } from './satellite-queue';
import { queueWorker } from './workers';

export interface EmailDeliveryProps {
  readonly database: SatelliteDatabase;
  readonly secretsPrefix: string;
  readonly webhooksQueue: IQueue;
  /** The API's public URL: tracking and unsubscribe links point at it. */
  readonly publicBaseUrl: string;
  /**
   * SES identities (verified domains or addresses) the stack may send as; SendEmail is
   * granted on these only. Set with `cdk deploy -c emailIdentities=example.com,news@example.org`.
   */
  readonly sendingIdentities: readonly string[];
  /** Platform default of emails per second and account (SES's own account rate is the ceiling). */
  readonly sendRatePerSecond: number;
}

/**
 * Email out and its outcomes back: the send queue and worker (SES v2 or an account's SMTP
 * relay), a minute sweep for sends whose queue message was lost, and SES's configuration
 * set publishing Delivery, Bounce and Complaint to an SNS topic that feeds the events queue
 * and its worker.
 */
export class EmailDelivery extends Construct {
  readonly sendQueue: SatelliteQueue;
  readonly sender: SatelliteFunction;
  readonly eventsQueue: SatelliteQueue;
  readonly eventsWorker: SatelliteFunction;
  readonly sweep: SatelliteFunction;
  readonly configurationSet: ConfigurationSet;

  constructor(scope: Construct, id: string, props: EmailDeliveryProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {});
    // SES publishes to an encrypted topic only when the key lets it.
    const key = new Key(this, 'EventsKey', { enableKeyRotation: true, description: 'Encrypts the SES events topic' });
    key.grant(new ServicePrincipal('ses.amazonaws.com'), 'kms:GenerateDataKey*', 'kms:Decrypt');
    const topic = new Topic(this, 'EventsTopic', { masterKey: key, enforceSSL: true });
    new ConfigurationSetEventDestination(this, 'EventsToTopic', {
      configurationSet: this.configurationSet,
      destination: EventDestination.snsTopic(topic),
      events: [EmailSendingEvent.DELIVERY, EmailSendingEvent.BOUNCE, EmailSendingEvent.COMPLAINT],
    });

    ({ queue: this.eventsQueue, worker: this.eventsWorker } = queueWorker(this, 'EventsWorker', {
      database: props.database,
      topology: queues.emailEvents,
      description: 'Turns SES delivery, bounce and complaint events into activities',
    }));
    // Raw delivery: each SQS message is SES's event record itself (the worker reads SNS envelopes too).
    topic.addSubscription(new SqsSubscription(this.eventsQueue.queue, { rawMessageDelivery: true }));
    this.eventsWorker.bindQueue('webhooks', props.webhooksQueue);

    ({ queue: this.sendQueue, worker: this.sender } = queueWorker(this, 'Sender', {
      database: props.database,
      topology: queues.emails,
      description: 'Hands queued sends to SES or the account SMTP relay, at the account rate',
      uses: { email: true },
    }));
    this.sender
      // An account's SMTP relay password is kept beside connector secrets, under the stack prefix.
      .bindConnectorSecretsReadOnly(props.secretsPrefix)
      .bindQueue('emails', this.sendQueue.queue)
      .bindQueue('webhooks', props.webhooksQueue);
    this.sender.addEnvironment('EMAIL_CHANNEL', 'ses');
    this.sender.addEnvironment('SES_CONFIGURATION_SET', this.configurationSet.configurationSetName);
    this.sender.addEnvironment('PUBLIC_BASE_URL', props.publicBaseUrl);
    this.sender.addEnvironment('EMAIL_SEND_RATE_PER_SECOND', String(props.sendRatePerSecond));
    if (props.sendingIdentities.length > 0) {
      this.sender.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['ses:SendEmail', 'ses:SendRawEmail'],
          resources: [
            ...props.sendingIdentities.map((identity) =>
              stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
            ),
            stack.formatArn({
              service: 'ses',
              resource: 'configuration-set',
              resourceName: this.configurationSet.configurationSetName,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
        }),
      );
    }

    const sweep = scheduleTargets.sendSweep;
    const sweepSchedule = fixedSchedules.find((candidate) => candidate.target === 'sendSweep');
    if (!sweepSchedule) throw new Error('shared/topology.ts declares no fixed schedule for sendSweep');
    this.sweep = new SatelliteFunction(this, 'Sweep', {
      functionDir: sweep.worker,
      description: 'Queues again email, SMS and Viber sends whose queue message was lost',
      timeout: Duration.seconds(sweep.timeoutSeconds),
      memorySize: 512,
      vpc: props.database.vpc,
      securityGroup: props.database.functionSecurityGroup,
    })
      .bindDatabase(props.database)
      .bindQueue('emails', this.sendQueue.queue);
    new Rule(this, 'SweepEveryMinute', {
      schedule: Schedule.expression(sweepSchedule.expression),
      targets: [new LambdaFunction(this.sweep, { retryAttempts: 0 })],
    });
  }
}
