/**
 * What an operator relies on once the stack is live, checked on the synthesised template
 * (offline; docs/deploy.md lists what was verified only on paper): alarms reach a person,
 * migrations run before code, load is capped, egress survives an AZ, functions log in as the
 * application user, stages do not collide, and every cdk-nag acknowledgement suppresses a finding.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IConstruct } from 'constructs';
import { platformAlarms } from '../../infra/constructs/monitoring';
import { SatelliteStack } from '../../infra/satellite-stack';
import { stageFromContext } from '../../infra/stage';
import { connectionBudget, queueList } from '../../shared/topology';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

let app: App;
let stack: Stack;
let template: Template;
let resources: Record<string, Resource>;
const ACKNOWLEDGED = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
const usedAcknowledgements = new Set<string>();

beforeAll(() => {
  const { context } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'satellite-ops-')),
    context: { ...context, stage: 'qa', alarmEmail: 'oncall@example.com' },
  });
  stack = new SatelliteStack(app, 'Satellite-qa', { env: { account: '123456789012', region: 'eu-west-1' } });
  const checks = new AwsSolutionsChecks(app, { verbose: true });
  // cdk-nag applies acknowledgements itself and reports none it applied: record each use.
  const pack = checks as unknown as { isAcknowledged(node: IConstruct, ruleId: string): boolean };
  pack.isAcknowledged = (node, ruleId) => {
    for (let current: IConstruct | undefined = node; current; current = current.node.scope) {
      for (const entry of current.node.metadata) {
        if (entry.type !== ACKNOWLEDGED || !entry.data) continue;
        if (Object.keys(entry.data as object).some((key) => key.replace(/^annotation::/i, '') === ruleId)) {
          usedAcknowledgements.add(`${current.node.path} ${ruleId}`);
          return true;
        }
      }
    }
    return false;
  };
  Validations.of(app).addPlugins(checks);
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
}, 300_000);

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const ref = (value: unknown): string | undefined => {
  const object = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return object?.Ref ?? object?.['Fn::GetAtt']?.[0];
};
const functionsNamed = (pattern: RegExp) => ofType('AWS::Lambda::Function').filter(([, fn]) => pattern.test(String(fn.Properties.Description)));

describe('alarms', () => {
  it('every alarm notifies the alarm topic, which the stage subscribes its on-call address to', () => {
    // The alarm topic (the other carries SES's delivery events to their queue).
    const [topicId] = ofType('AWS::SNS::Topic').find(([id]) => id.startsWith('MonitoringAlarmTopic'))!;
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(40);
    for (const [id, alarm] of alarms) expect([id, (alarm.Properties.AlarmActions as unknown[] | undefined)?.map(ref)]).toEqual([id, [topicId]]);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topicId } });
    template.hasOutput('AlarmTopicArn', {});
  });

  it('watch every function for errors and throttles', () => {
    const functionIds = ofType('AWS::Lambda::Function')
      .filter(
        ([, fn]) =>
          String(fn.Properties.Description).length > 0 &&
          (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME,
      )
      .map(([id]) => id);
    expect(functionIds.length).toBeGreaterThanOrEqual(12);
    for (const metric of ['Errors', 'Throttles']) {
      const watched = ofType('AWS::CloudWatch::Alarm')
        .filter(([, alarm]) => alarm.Properties.MetricName === metric && alarm.Properties.Namespace === 'AWS/Lambda')
        .map(([, alarm]) => ref((alarm.Properties.Dimensions as { Value: unknown }[])[0]!.Value));
      expect(watched.sort()).toEqual([...functionIds].sort());
    }
  });

  it('watch the API, the database, the proxy and the schedulers', () => {
    const metrics = ofType('AWS::CloudWatch::Alarm').map(
      ([, alarm]) => `${String(alarm.Properties.Namespace)}/${String(alarm.Properties.MetricName)}`,
    );
    expect(metrics).toEqual(
      expect.arrayContaining([
        'AWS/ApiGateway/5xx',
        'AWS/ApiGateway/Latency',
        'AWS/RDS/CPUUtilization',
        'AWS/RDS/CPUCreditBalance',
        'AWS/RDS/FreeStorageSpace',
        'AWS/RDS/DatabaseConnections',
        'AWS/RDS/DatabaseConnectionsBorrowLatency',
        'AWS/RDS/DatabaseConnectionsCurrentlySessionPinned',
        'AWS/Scheduler/TargetErrorCount',
        'AWS/Scheduler/InvocationDroppedCount',
      ]),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: platformAlarms.apiP99LatencyMs,
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.secretsmanager'], detail: { eventName: ['RotationFailed'] } },
    });
  });

  it("alarm on the seeds' promises from the platform's own metrics, not on the age of webhook messages in backoff", () => {
    const custom = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const named = (name: string) => custom.filter((alarm) => alarm.MetricName === name || JSON.stringify(alarm.Metrics ?? []).includes(`"${name}"`));
    const [lag] = named('WebhookDeliveryLagSeconds');
    expect(JSON.stringify(lag)).toEqual(expect.stringMatching(/"Namespace":"Satellite".*"Stat":"p99"|"Stat":"p99".*"Namespace":"Satellite"/));
    expect(JSON.stringify(lag)).toContain('{"Name":"service","Value":"satellite"}');
    for (const name of ['WebhookEndpointsSuspended', 'ExportRunFailures', 'ExportDatasetsOverdue'])
      expect([name, named(name).length]).toEqual([name, 1]);
    // The webhooks queue has no oldest-message alarm; its dead-letter queue keeps one on depth.
    const [[webhooksQueue]] = ofType('AWS::SQS::Queue').filter(
      ([, queue]) => queue.Properties.FifoQueue === true && queue.Properties.RedrivePolicy,
    ) as [[string, Resource]];
    expect(
      custom.filter((alarm) => alarm.MetricName === 'ApproximateAgeOfOldestMessage' && JSON.stringify(alarm.Dimensions).includes(webhooksQueue)),
    ).toEqual([]);
    expect(custom.filter((alarm) => alarm.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(queueList.length);
  });

  it('come with a dashboard', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Satellite-qa-operations' });
  });
});

describe('deploys', () => {
  it('update no function that reads the schema before the migrations succeeded', () => {
    const [[triggerId]] = ofType('Custom::Trigger') as [[string, Resource]];
    const readers = ofType('AWS::Lambda::Function').filter(
      ([, fn]) => (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.DB_HOST,
    );
    expect(readers.length).toBeGreaterThanOrEqual(12);
    for (const [id, fn] of readers) {
      const isMigrator = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.DB_APP_SECRET_ARN !== undefined;
      // The trigger runs the migrate function, so that one comes first; every other waits for the trigger.
      expect([id, isMigrator || (fn.DependsOn ?? []).includes(triggerId)]).toEqual([id, true]);
    }
  });
});

describe('load', () => {
  it('caps each queue worker so that together they stay within their database connections', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(
      ([, mapping]) => mapping.Properties.ScalingConfig as { MaximumConcurrency: number },
    );
    expect(mappings).toHaveLength(queueList.length);
    const total = mappings.reduce((sum, scaling) => sum + scaling.MaximumConcurrency, 0);
    expect(total * connectionBudget.poolSize).toBeLessThanOrEqual(connectionBudget.workers);
  });

  it('reserves concurrency for the API', () => {
    const [[, api]] = functionsNamed(/^Satellite HTTP API$/) as [[string, Resource]];
    expect(api.Properties.ReservedConcurrentExecutions).toBe(connectionBudget.apiReservedConcurrency);
  });
});

describe('the network', () => {
  it('has a NAT gateway per AZ, their addresses as outputs, and endpoints for SQS, Secrets Manager and Scheduler', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    expect(Object.keys(template.findOutputs('*')).filter((name) => name.startsWith('EgressIp'))).toEqual(['EgressIp1', 'EgressIp2']);
    const services = ofType('AWS::EC2::VPCEndpoint').map(([, endpoint]) => JSON.stringify(endpoint.Properties.ServiceName));
    for (const service of ['sqs', 'secretsmanager', 'scheduler'])
      expect(services.some((name) => name.includes(`.${service}"`) || name.includes(`.${service}`))).toBe(true);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
  });

  it('keeps a single NAT a non-production option only', () => {
    expect(stageFromContext(new App({ context: { stage: 'dev', singleNat: 'true' } }).node).natGateways).toBe(1);
    expect(() => stageFromContext(new App({ context: { stage: 'prod', singleNat: 'true' } }).node)).toThrow(/production/);
    expect(stageFromContext(new App({ context: { stage: 'prod' } }).node).databaseInstanceType.toString()).toBe('m7g.large');
  });
});

describe('the database', () => {
  it('lets only the migrate function read the master secret; every other function logs in as the application user', () => {
    const [[instanceId]] = ofType('AWS::RDS::DBInstance') as [[string, Resource]];
    const attachments = ofType('AWS::SecretsManager::SecretTargetAttachment').map(
      ([id, attachment]) => [id, ref(attachment.Properties.SecretId)] as const,
    );
    const masterAttachment = attachments.find(([, secret]) => JSON.stringify(resources[instanceId]!.Properties).includes(secret!))![0];
    const readers = ofType('AWS::Lambda::Function')
      .map(([id, fn]) => [id, (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.DB_SECRET_ARN] as const)
      .filter(([, secret]) => secret !== undefined);
    const onMaster = readers.filter(([, secret]) => ref(secret) === masterAttachment);
    expect(onMaster.map(([id]) => id)).toEqual([expect.stringMatching(/^Migrate/)]);
    expect(readers.length - onMaster.length).toBeGreaterThanOrEqual(11);
    // Master, migrator and application secrets all rotate.
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 3);
  });

  it('gives the migrator a secret of its own, readable by the migrate function alone, and lets it through the proxy', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    const [[migratorSecretId]] = secrets.filter(([, secret]) => JSON.stringify(secret.Properties).includes('satellite_migrator')) as [
      [string, Resource],
    ];
    const [[migratorAttachmentId]] = ofType('AWS::SecretsManager::SecretTargetAttachment').filter(
      ([, attachment]) => ref(attachment.Properties.SecretId) === migratorSecretId,
    ) as [[string, Resource]];
    // The migrate function gets it, no other function does.
    const withMigrator = ofType('AWS::Lambda::Function').filter(([, fn]) =>
      JSON.stringify((fn.Properties.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}).includes(migratorAttachmentId),
    );
    expect(withMigrator.map(([id]) => id)).toEqual([expect.stringMatching(/^Migrate/)]);
    const readers = ofType('AWS::IAM::Policy').filter(
      ([, policy]) =>
        JSON.stringify(policy.Properties.PolicyDocument).includes(migratorAttachmentId) &&
        JSON.stringify(policy.Properties.PolicyDocument).includes('secretsmanager:GetSecretValue'),
    );
    const roles = readers.flatMap(([, policy]) => (policy.Properties.Roles as unknown[]).map(ref));
    const lambdaRoles = ofType('AWS::Lambda::Function').map(([id, fn]) => [id, ref(fn.Properties.Role)] as const);
    const readingFunctions = lambdaRoles.filter(([, role]) => roles.includes(role)).map(([id]) => id);
    expect(readingFunctions).toEqual([expect.stringMatching(/^Migrate/)]);
    // It rotates with alternating users (a clone), like the application's.
    const rotations = ofType('AWS::SecretsManager::RotationSchedule').filter(
      ([, rotation]) => ref(rotation.Properties.SecretId) === migratorAttachmentId,
    );
    expect(rotations).toHaveLength(1);
    // RDS Proxy accepts its login.
    const [[, proxy]] = ofType('AWS::RDS::DBProxy') as [[string, Resource]];
    expect(JSON.stringify(proxy.Properties.Auth)).toContain(migratorAttachmentId);
  });

  it('stores on gp3', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { StorageType: 'gp3' });
  });
});

describe('stages', () => {
  it('name every named resource after the stack, so two stages fit one account', () => {
    const named: [string, string][] = [];
    // HTTP API names need not be unique; the resources below must be, within an account and region.
    for (const [id, resource] of Object.entries(resources).filter(([, candidate]) => candidate.Type !== 'AWS::ApiGatewayV2::Api')) {
      for (const [key, value] of Object.entries(resource.Properties ?? {})) {
        if (/(^|[a-z])Name$/.test(key) && typeof value === 'string' && !['EngineFamily'].includes(key)) named.push([id, `${key}=${value}`]);
      }
    }
    const physical = named.filter(([, entry]) =>
      /^(DBProxyName|Name|DashboardName|SecretName|TopicName|QueueName|FunctionName|RoleName|LogGroupName|ScheduleGroupName)=/.test(entry),
    );
    expect(physical.length).toBeGreaterThan(0);
    for (const [id, entry] of physical) expect([id, entry]).toEqual([id, expect.stringMatching(/satellite-qa/i)]);
  });
});

describe('cdk-nag', () => {
  it('has no acknowledgement that suppresses nothing', () => {
    expect(() => app.synth()).not.toThrow();
    const declared = stack.node.findAll().flatMap((node) =>
      node.node.metadata
        .filter((entry) => entry.type === ACKNOWLEDGED && entry.data)
        .flatMap((entry) => Object.keys(entry.data as object))
        .filter((key) => /^annotation::AwsSolutions-/i.test(key))
        .map((key) => `${node.node.path} ${key.replace(/^annotation::/i, '')}`),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(declared.filter((acknowledgement) => !usedAcknowledgements.has(acknowledgement))).toEqual([]);
  });
});
