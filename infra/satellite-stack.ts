import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import { SatelliteApi } from './constructs/api';
import { Broadcasts } from './constructs/broadcasts';
import { ConnectorValidation } from './constructs/connectors';
import { WebConsole } from './constructs/console';
import { ContactImports } from './constructs/contacts';
import { SatelliteDatabase } from './constructs/database';
import { EmailDelivery } from './constructs/email';
import { DataExports } from './constructs/exports';
import { SatelliteFunction } from './constructs/satellite-function';
import { SatelliteSchedules } from './constructs/schedules';
import { TextDelivery } from './constructs/text-messages';
import { TriggerEvents } from './constructs/trigger-events';
import { SatelliteMonitoring } from './constructs/monitoring';
import { ActivityWebhooks } from './constructs/webhooks';
import { stageFromContext, type StageSettings } from './stage';

export interface SatelliteStackProps extends StackProps {
  /** Defaults to the stage the CDK context names (`-c stage=prod`). */
  readonly stage?: StageSettings;
}

/** Satellite: wires the capability constructs together, nothing else. */
export class SatelliteStack extends Stack {
  constructor(scope: Construct, id: string, props: SatelliteStackProps = {}) {
    super(scope, id, props);
    const stage = props.stage ?? stageFromContext(this.node);
    const secretsPrefix = `${this.stackName}/`;

    const database = new SatelliteDatabase(this, 'Database', { stage });

    const migrations = new SatelliteFunction(this, 'Migrate', {
      functionDir: 'migrate',
      description: 'Applies platform store migrations on deploy',
      timeout: Duration.minutes(5),
      vpc: database.vpc,
      securityGroup: database.functionSecurityGroup,
    }).bindDatabaseAsMigrator(database);
    // The deploy waits as long as the function may run, or a slow migration would be called
    // failed (and the deploy rolled back) after it committed.
    const migrateOnDeploy = new Trigger(this, 'MigrateOnDeploy', {
      handler: migrations,
      executeAfter: [database],
      executeOnHandlerChange: true,
      timeout: Duration.minutes(5),
    });

    // Operators invoke it once per customer (aws lambda invoke); nothing routes to it.
    const provisioning = new SatelliteFunction(this, 'ProvisionAccount', {
      functionDir: 'provision-account',
      description: 'Creates a customer account with its first API key and login (operators invoke it)',
      timeout: Duration.seconds(30),
      vpc: database.vpc,
      securityGroup: database.functionSecurityGroup,
    }).bindDatabase(database);

    const api = new SatelliteApi(this, 'Api', { database, rateLimitPerSecond: 200, customDomain: stage.customDomain });
    api.handler.bindConnectorSecrets(secretsPrefix);
    new ConnectorValidation(this, 'ConnectorValidation', { database, secretsPrefix, httpApi: api.httpApi });

    const contactImports = new ContactImports(this, 'ContactImports', { database });
    api.handler.bindQueue('imports', contactImports.queue.queue);

    const schedules = new SatelliteSchedules(this, 'Schedules');
    const dataExports = new DataExports(this, 'Exports', { database, schedules, secretsPrefix });
    api.handler.bindQueue('exports', dataExports.queue.queue);
    const triggerEvents = new TriggerEvents(this, 'TriggerEvents', { database, schedules, secretsPrefix });
    // "Run now" on a regular workflow queues its pages from the API.
    api.handler.bindQueue('triggerEvents', triggerEvents.queue.queue);
    schedules.grantManage(api.handler);

    const webhooks = new ActivityWebhooks(this, 'Webhooks', { database, retryBaseSeconds: 60 });
    // Recording, resuming and redelivering relay the outbox to the FIFO queue from the API,
    // and a workflow's sends relay their activities from the assembler.
    api.handler.bindQueue('webhooks', webhooks.queue.queue);
    triggerEvents.assembler.bindQueue('webhooks', webhooks.queue.queue);

    const broadcasts = new Broadcasts(this, 'Broadcasts', { database, secretsPrefix, webhooksQueue: webhooks.queue.queue });
    api.handler.bindQueue('broadcasts', broadcasts.queue.queue);

    const email = new EmailDelivery(this, 'Email', {
      database,
      secretsPrefix,
      webhooksQueue: webhooks.queue.queue,
      publicBaseUrl: api.publicBaseUrl,
      sendingIdentities: String(this.node.tryGetContext('emailIdentities') ?? '')
        .split(',')
        .map((identity) => identity.trim())
        .filter((identity) => identity !== ''),
      sendRatePerSecond: Number(this.node.tryGetContext('emailSendRatePerSecond') ?? 14),
    });
    // Whatever records sends queues them for delivery: smartsend (API), broadcasts, workflows.
    api.handler.bindQueue('emails', email.sendQueue.queue);
    broadcasts.worker.bindQueue('emails', email.sendQueue.queue);
    triggerEvents.assembler.bindQueue('emails', email.sendQueue.queue);
    new CfnOutput(this, 'SesConfigurationSet', { value: email.configurationSet.configurationSetName });

    // SMS and Viber: the API records and queues each send (POST message/sms, message/viber);
    // the texts worker hands it over. The API lists and checks the sender IDs (interfaces/sms).
    const smsSenderIds = String(this.node.tryGetContext('smsSenderIds') ?? '')
      .split(',')
      .map((identity) => identity.trim())
      .filter((identity) => identity !== '');
    const texts = new TextDelivery(this, 'Texts', { database, webhooksQueue: webhooks.queue.queue, senderIds: smsSenderIds });
    api.handler.bindQueue('texts', texts.queue.queue);
    email.sweep.bindQueue('texts', texts.queue.queue);
    api.handler.addEnvironment('SMS_SENDER_IDS', smsSenderIds.join(','));

    // Migrations before code: every function that reads the schema is created or updated only
    // after the migrate trigger succeeded; a failed migration fails the deploy before any new
    // code goes live (docs/deploy.md, "Upgrade and rollback": expand, deploy, contract).
    for (const fn of this.node.findAll()) {
      if (fn instanceof SatelliteFunction && fn !== migrations && fn.readsSchema) migrateOnDeploy.executeBefore(fn);
    }

    new SatelliteMonitoring(this, 'Monitoring', {
      database,
      httpApi: api.httpApi,
      alarmEmails: stage.alarmEmails,
      burstableDatabase: stage.databaseInstanceType.toString().startsWith('t'),
    });

    const webConsole = new WebConsole(this, 'Console', { httpApi: api.httpApi });

    new CfnOutput(this, 'ApiUrl', { value: api.publicBaseUrl });
    new CfnOutput(this, 'ConsoleUrl', { value: `https://${webConsole.distribution.distributionDomainName}/` });
    new CfnOutput(this, 'ProvisionAccountFunction', { value: provisioning.functionName });
  }
}
