import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SatelliteStack } from '../../infra/satellite-stack';

// Synthesising bundles every Lambda with esbuild; done once for the whole file.
let app: App;
let stack: Stack;
let template: Template;

beforeAll(() => {
  // The same feature flags as `cdk synth` (cdk.json), so the test sees the deployed template.
  const { context } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  // One SES identity, as `cdk deploy -c emailIdentities=example.com` gives it.
  app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'satellite-cdk-')), context: { ...context, emailIdentities: 'example.com' } });
  stack = new SatelliteStack(app, 'SatelliteTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  template = Template.fromStack(stack);
}, 300_000);

describe('the stack', () => {
  it('synthesises with no unacknowledged cdk-nag finding', () => {
    // Synthesis throws with the validation report when any finding is not acknowledged.
    expect(() => app.synth()).not.toThrow();
  });

  it('serves the HTTP API through one Lambda on Node 22', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', AutoDeploy: true });
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'Satellite HTTP API', Runtime: 'nodejs22.x', Architectures: ['arm64'] });
  });

  it('puts PostgreSQL behind RDS Proxy with TLS, encrypted, credentials in Secrets Manager', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', StorageEncrypted: true, MultiAZ: true, DeletionProtection: true });
    template.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
    template.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 1);
  });

  it('gives every function its database settings as variables, not credentials', () => {
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { DB_SECRET_ARN: Match.anyValue() } } } });
    expect(Object.keys(functions).length).toBeGreaterThanOrEqual(2);
    for (const resource of Object.values(functions)) {
      const variables = (resource as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
      expect(Object.keys(variables)).not.toContain('DB_PASSWORD');
    }
  });

  it('has an operator function that provisions accounts, reachable by no route', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('Creates a customer account'), Runtime: 'nodejs22.x' });
    template.hasOutput('ProvisionAccountFunction', {});
  });

  it('runs migrations on deploy, waiting as long as the migrate function may run', () => {
    template.resourceCountIs('Custom::Trigger', 1);
    const trigger = Object.values(template.findResources('Custom::Trigger'))[0] as { Properties: { Timeout: string } };
    expect(Number(trigger.Properties.Timeout)).toBe(5 * 60 * 1000);
  });

  it('lets every function that records activities relay them to the webhooks queue', () => {
    for (const description of ['Satellite HTTP API', 'Assembles trigger events']) {
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description) } })) as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }[];
      expect([description, Object.keys(fn!.Properties.Environment.Variables)]).toEqual([description, expect.arrayContaining(['WEBHOOK_QUEUE_URL'])]);
    }
  });

  it('delivers webhooks from a FIFO queue with a dead-letter queue, partial batch failures and an age alarm', () => {
    const queues = template.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true, RedrivePolicy: Match.anyValue() } });
    expect(Object.keys(queues)).toHaveLength(1);
    const [queueId, queue] = Object.entries(queues)[0] as [string, { Properties: { VisibilityTimeout: number } }];
    const dispatcher = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('webhooks') } }))[0] as {
      Properties: { Timeout: number };
    };
    // The message stays invisible longer than one invocation plus its HTTP timeout (10 s).
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThan(dispatcher.Properties.Timeout + 10);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
    });
  });

  it('gives every queue a dead-letter queue and every queue consumer partial batch responses', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: { FunctionResponseTypes?: string[] } }[];
    const deadLetterQueues = new Set(
      Object.values(queues).flatMap((queue) => {
        const target = (queue as { Properties: { RedrivePolicy?: { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] } } } }).Properties.RedrivePolicy;
        return target ? [target.deadLetterTargetArn['Fn::GetAtt'][0]] : [];
      }),
    );
    // Work queues (imports, exports, webhooks, trigger events, broadcasts), each paired with its DLQ.
    expect(deadLetterQueues.size).toBe(Object.keys(queues).length / 2);
    expect(mappings.length).toBe(deadLetterQueues.size);
    for (const mapping of mappings) expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('lets the export dispatcher be fired by schedules the API manages', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Satellite HTTP API',
      Environment: { Variables: { SCHEDULER_GROUP: Match.anyValue(), SCHEDULER_ROLE_ARN: Match.anyValue(), SCHEDULE_TARGET_EXPORTS: Match.anyValue() } },
    });
  });

  it('sweeps the webhook outbox every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('prunes old webhook attempts every hour, with a function that reaches the database', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('webhook delivery attempts'),
      Environment: { Variables: { DB_SECRET_ARN: Match.anyValue() } },
    });
  });

  it('gives the connection checker read access to connector secrets and nothing more', () => {
    const validator = Object.entries(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('Checks a connector') } }))[0]!;
    const role = (validator[1] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } }).Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles).includes(role),
    );
    const actions = policies.flatMap((policy) =>
      ((policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties.PolicyDocument.Statement).flatMap((statement) =>
        Array.isArray(statement.Action) ? statement.Action : [statement.Action],
      ),
    );
    expect(actions.filter((action) => action.startsWith('secretsmanager:'))).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
    expect(actions).not.toContain('secretsmanager:CreateSecret');
    expect(actions).not.toContain('secretsmanager:PutSecretValue');
  });

  it('publishes SES delivery, bounce and complaint events through an encrypted topic to the email events queue, and may send only as the configured identities', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({ Enabled: true, MatchingEventTypes: ['delivery', 'bounce', 'complaint'], SnsDestination: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', RawMessageDelivery: true });
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('SES delivery, bounce and complaint'), Runtime: 'nodejs22.x' });
    const sesStatements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
    ).filter((statement) => [statement.Action].flat().includes('ses:SendEmail'));
    expect(sesStatements).toHaveLength(1);
    const resources = JSON.stringify(sesStatements[0]!.Resource);
    expect(resources).toContain(':identity/example.com');
    expect(resources).toContain(':configuration-set/');
    expect(resources).not.toContain('"*"');
  });
});
