import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { referenceAssets } from '../../functions/api/reference/assets';
import { SatelliteStack } from '../../infra/satellite-stack';
import { API_PATH_PATTERNS } from '../../infra/constructs/console';
import { apiRoutes } from '../../functions/api/routes';
import { OAUTH_PATHS, SEED_PATH_ALIASES } from '../../shared/oauth/server-metadata';

// Synthesising bundles every Lambda with esbuild; done once for the whole file.
let app: App;
let stack: Stack;
let template: Template;

beforeAll(() => {
  // The same feature flags as `cdk synth` (cdk.json), so the test sees the deployed template.
  const { context } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  // One SES identity and two SMS origination identities, as `cdk deploy -c emailIdentities=example.com -c smsSenderIds=Kvitka,pool-0123abcd` gives them.
  app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'satellite-cdk-')),
    context: { ...context, emailIdentities: 'example.com', smsSenderIds: 'Kvitka,pool-0123abcd' },
  });
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

  it('sends the OAuth endpoints, seed 004 /uaa/oauth/* aliases included, to the API function through the catch-all route', () => {
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (resource) => (resource as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    expect(routeKeys).toContain('$default');
    // Only connector validation (another function) and the reference page (the API function, for
    // its bundled files) have routes of their own; no OAuth path is caught before $default.
    const oauthPaths = [...Object.values(OAUTH_PATHS), ...SEED_PATH_ALIASES.authorize, ...SEED_PATH_ALIASES.token];
    expect(routeKeys.filter((key) => oauthPaths.some((oauthPath) => key.endsWith(` ${oauthPath}`)))).toEqual([]);
    const ownRoutes = routeKeys.filter((key) => key !== '$default' && !key.includes('/api/v1/connectors/'));
    expect(ownRoutes.sort()).toEqual(['GET /api/v1/openapi.json', 'GET /docs', 'GET /docs/assets/{asset}', 'GET /docs/reference.js']);
  });

  it('puts PostgreSQL behind RDS Proxy with TLS, encrypted, credentials in Secrets Manager', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', StorageEncrypted: true, MultiAZ: true, DeletionProtection: true });
    template.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
    // The master user's, the migrator's and the application user's (test/infra/operations.test.ts).
    template.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 3);
  });

  it('gives every function its database settings as variables, not credentials', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { DB_SECRET_ARN: Match.anyValue() } } },
    });
    expect(Object.keys(functions).length).toBeGreaterThanOrEqual(2);
    for (const resource of Object.values(functions)) {
      const variables = (resource as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
      expect(Object.keys(variables)).not.toContain('DB_PASSWORD');
    }
  });

  it('has an operator function that provisions accounts, reachable by no route', () => {
    const [provisioning] = Object.keys(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('Creates a customer account') } }),
    );
    expect(provisioning).toBeDefined();
    template.hasOutput('ProvisionAccountFunction', { Value: { Ref: provisioning } });
    // Nothing may invoke it but an operator's own credentials: no route, rule, queue or permission names it.
    const naming = (type: string) =>
      Object.keys(template.findResources(type)).filter((id) => JSON.stringify(template.toJSON().Resources[id]).includes(`"${provisioning!}"`));
    expect(
      [
        'AWS::ApiGatewayV2::Integration',
        'AWS::ApiGatewayV2::Route',
        'AWS::Lambda::Permission',
        'AWS::Lambda::EventSourceMapping',
        'AWS::Events::Rule',
      ].flatMap(naming),
    ).toEqual([]);
  });

  it('runs migrations on deploy, waiting as long as the migrate function may run', () => {
    template.resourceCountIs('Custom::Trigger', 1);
    const trigger = Object.values(template.findResources('Custom::Trigger'))[0] as { Properties: { Timeout: string } };
    expect(Number(trigger.Properties.Timeout)).toBe(5 * 60 * 1000);
  });

  it('lets every function that records activities relay them to the webhooks queue', () => {
    for (const description of ['Satellite HTTP API', 'Assembles trigger events']) {
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description) } }),
      ) as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }[];
      expect([description, Object.keys(fn!.Properties.Environment.Variables)]).toEqual([description, expect.arrayContaining(['WEBHOOK_QUEUE_URL'])]);
    }
  });

  it('delivers webhooks from a FIFO queue with a dead-letter queue and partial batch failures', () => {
    const queues = template.findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true, RedrivePolicy: Match.anyValue() } });
    expect(Object.keys(queues)).toHaveLength(1);
    const [queueId, queue] = Object.entries(queues)[0] as [string, { Properties: { VisibilityTimeout: number } }];
    const dispatcher = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('webhooks') } }),
    )[0] as {
      Properties: { Timeout: number };
    };
    // The message stays invisible longer than one invocation plus its HTTP timeout (10 s).
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThan(dispatcher.Properties.Timeout + 10);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // No age alarm: messages of a failing endpoint wait there in backoff by design; delivery lag is watched instead.
  });

  it('gives every queue a dead-letter queue and every queue consumer partial batch responses', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as {
      Properties: { FunctionResponseTypes?: string[] };
    }[];
    const deadLetterQueues = new Set(
      Object.values(queues).flatMap((queue) => {
        const target = (queue as { Properties: { RedrivePolicy?: { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] } } } }).Properties
          .RedrivePolicy;
        return target ? [target.deadLetterTargetArn['Fn::GetAtt'][0]] : [];
      }),
    );
    // Work queues (imports, exports, webhooks, trigger events, broadcasts), each paired with its DLQ.
    expect(deadLetterQueues.size).toBe(Object.keys(queues).length / 2);
    expect(mappings.length).toBe(deadLetterQueues.size);
    for (const mapping of mappings) expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('lets the export dispatcher be fired by schedules the API manages', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
    const idOf = (type: string, description: string) =>
      Object.keys(resources).find((id) => resources[id]!.Type === type && String(resources[id]!.Properties.Description).startsWith(description))!;
    const api = resources[idOf('AWS::Lambda::Function', 'Satellite HTTP API')]!;
    const dispatcher = idOf('AWS::Lambda::Function', 'Fired by an export schedule');
    const [, group] = Object.entries(resources).find(([, resource]) => resource.Type === 'AWS::Scheduler::ScheduleGroup')!;
    const variables = api.Properties.Environment.Variables as Record<string, any>;

    // The API is told the group, the role schedules assume, and the dispatcher as the target of export schedules.
    expect(variables.SCHEDULER_GROUP).toBe(group.Properties.Name);
    expect(variables.SCHEDULE_TARGET_EXPORTS).toEqual({ 'Fn::GetAtt': [dispatcher, 'Arn'] });
    const roleId = (variables.SCHEDULER_ROLE_ARN as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(JSON.stringify(resources[roleId]!.Properties.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');

    // That role may invoke the dispatcher; the API may manage schedules in the group and hand them the role.
    const statementsOf = (role: string) =>
      Object.values(resources)
        .filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles).includes(`"${role}"`))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const allows = (role: string, action: string, resource: unknown) =>
      statementsOf(role).some(
        (statement) => [statement.Action].flat().includes(action) && JSON.stringify(statement.Resource).includes(JSON.stringify(resource)),
      );
    expect(allows(roleId, 'lambda:InvokeFunction', { 'Fn::GetAtt': [dispatcher, 'Arn'] })).toBe(true);
    const apiRole = (api.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(allows(apiRole, 'iam:PassRole', { 'Fn::GetAtt': [roleId, 'Arn'] })).toBe(true);
    expect(
      statementsOf(apiRole).some(
        (statement) =>
          [statement.Action].flat().includes('scheduler:CreateSchedule') &&
          JSON.stringify(statement.Resource).includes(`${String(group.Properties.Name)}/*`),
      ),
    ).toBe(true);
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
    const validator = Object.entries(
      template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('Checks a connector') } }),
    )[0]!;
    const role = (validator[1] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } }).Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles).includes(role),
    );
    const actions = policies.flatMap((policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties.PolicyDocument.Statement.flatMap(
        (statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]),
      ),
    );
    expect(actions.filter((action) => action.startsWith('secretsmanager:'))).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
    expect(actions).not.toContain('secretsmanager:CreateSecret');
    expect(actions).not.toContain('secretsmanager:PutSecretValue');
  });

  it('routes the OpenAPI document and the reference page to the API function, whose bundle carries Swagger UI', () => {
    const [apiFunctionId] = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: 'Satellite HTTP API' } }));
    for (const routeKey of ['GET /api/v1/openapi.json', 'GET /docs', 'GET /docs/reference.js', 'GET /docs/assets/{asset}']) {
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } })) as {
        Properties: { Target: unknown };
      }[];
      expect({ routeKey, routes: routes.length }).toEqual({ routeKey, routes: 1 });
      const integrationId = JSON.stringify(routes[0]!.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1];
      const integration = template.findResources('AWS::ApiGatewayV2::Integration')[integrationId!] as { Properties: { IntegrationUri: unknown } };
      expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(apiFunctionId);
    }
    const outdir = app.synth().directory;
    const bundles = readdirSync(outdir).filter((name) => name.startsWith('asset.') && existsSync(path.join(outdir, name, 'swagger-ui')));
    expect(bundles).toHaveLength(1);
    for (const asset of Object.values(referenceAssets)) expect(existsSync(path.join(outdir, bundles[0]!, 'swagger-ui', asset.file))).toBe(true);
    expect(existsSync(path.join(outdir, bundles[0]!, 'index.js'))).toBe(true);
  });

  it('bundles each function so that it loads, without what it never calls (cold start, bench/RESULTS.md)', () => {
    const outdir = app.synth().directory;
    const functions = Object.entries(template.findResources('AWS::Lambda::Function')) as [
      string,
      { Properties: { Code: { S3Key?: unknown }; Environment?: { Variables?: Record<string, unknown> } } },
    ][];
    const bundles = functions
      .filter(([, fn]) => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME !== undefined)
      .map(([id, fn]) => [id, path.join(outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`)] as const);
    expect(bundles.length).toBeGreaterThanOrEqual(15);
    const withBigQuery: string[] = [];
    const withSms: string[] = [];
    for (const [id, fn] of functions) {
      // Node would parse the source map at every cold start (15-20 ms of the API's load).
      expect([id, String(fn.Properties.Environment?.Variables?.NODE_OPTIONS ?? '')]).not.toEqual([
        id,
        expect.stringContaining('--enable-source-maps'),
      ]);
    }
    for (const [id, folder] of bundles) {
      const code = readFileSync(path.join(folder, 'index.js'), 'utf8');
      // zod's messages in other languages: gone since zod is imported as a namespace.
      expect([id, code.includes('Ungültige Eingabe')]).toEqual([id, false]);
      // Source maps name files and lines but carry no sources.
      expect([id, 'sourcesContent' in (JSON.parse(readFileSync(path.join(folder, 'index.js.map'), 'utf8')) as object)]).toEqual([id, false]);
      // BigQuery and the Tracer are bundled on their own, beside the main bundle, never in it.
      expect([id, code.includes('BIGQUERY_EMULATOR_HOST'), code.includes('AWS_XRAY_DAEMON_ADDRESS')]).toEqual([id, false, false]);
      const deferred = [
        '@aws-lambda-powertools/tracer',
        '@google-cloud/bigquery',
        '@aws-sdk/client-scheduler',
        '@aws-sdk/client-sesv2',
        '@aws-sdk/client-pinpoint-sms-voice-v2',
      ].filter((name) => existsSync(path.join(folder, 'node_modules', name, 'index.js')));
      if (deferred.includes('@google-cloud/bigquery')) withBigQuery.push(id.replace(/[0-9A-F]{8}$/, ''));
      if (deferred.includes('@aws-sdk/client-pinpoint-sms-voice-v2')) withSms.push(id.replace(/[0-9A-F]{8}$/, ''));
      expect([id, deferred.includes('@aws-lambda-powertools/tracer')]).toEqual([id, true]);
      // Loads in a fresh Node process, and so does each package it imports on first use, the way
      // the bundle imports it (a native import(), from the bundle's folder): the AWS SDK's
      // ES-module build, the stubs and the separate bundles' named exports hold together.
      const load = `require(${JSON.stringify(path.join(folder, 'index.js'))});
        (async () => {
          for (const name of ${JSON.stringify(deferred)}) {
            const loaded = await import(name);
            const main = loaded.BigQuery ?? loaded.Tracer ?? loaded.SchedulerClient ?? loaded.SESv2Client ?? loaded.PinpointSMSVoiceV2Client;
            if (typeof main !== 'function') throw new Error(name + ' exports nothing usable');
          }
        })().catch((error) => { console.error(error); process.exit(1); });`;
      execFileSync(process.execPath, ['-e', load], {
        cwd: folder,
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
    }
    // BigQuery only where a function talks to it (`uses` in infra/constructs).
    expect(withBigQuery.sort()).toEqual([
      'ApiHandler',
      'BroadcastsWorker',
      'ConnectorValidationValidator',
      'ExportsWorker',
      'TriggerEventsAssembler',
    ]);
    // The SMS client only in the texts worker: the API queues texts and never sends one.
    expect(withSms).toEqual(['TextsSender']);
  });

  it("serves the web console from S3 through CloudFront on the API's origin, with its CSP", () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    const [distribution] = Object.values(template.findResources('AWS::CloudFront::Distribution')) as {
      Properties: {
        DistributionConfig: {
          DefaultRootObject: string;
          CacheBehaviors: { PathPattern: string; ViewerProtocolPolicy: string; AllowedMethods: string[] }[];
        };
      };
    }[];
    const config = distribution!.Properties.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.CacheBehaviors.map((behavior) => behavior.PathPattern).sort()).toEqual([...API_PATH_PATTERNS].sort());
    for (const behavior of config.CacheBehaviors) expect(behavior.AllowedMethods).toContain('POST');
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: {
        SecurityHeadersConfig: { ContentSecurityPolicy: { ContentSecurityPolicy: Match.stringLikeRegexp("script-src 'self'") } },
      },
    });
    template.hasResourceProperties('Custom::CDKBucketDeployment', { DistributionPaths: ['/*'] });
  });
});

describe("the console's CloudFront distribution", () => {
  it("sends every path the API answers to the API, none to the console's bucket", () => {
    // CloudFront's patterns: `*` matches any characters, `/` included.
    const matchers = API_PATH_PATTERNS.map((pattern) => new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`));
    const concrete = (routePath: string) => routePath.replace(/\{[^}]+\}/g, 'x');
    const unrouted = apiRoutes.map((route) => route.path).filter((routePath) => !matchers.some((matcher) => matcher.test(concrete(routePath))));
    expect(unrouted).toEqual([]);
  });
});

describe('email delivery in the stack', () => {
  it('publishes SES delivery, bounce and complaint events through an encrypted topic to the email events queue, and may send only as the configured identities', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: ['delivery', 'bounce', 'complaint'],
        SnsDestination: Match.anyValue(),
      }),
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', RawMessageDelivery: true });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('SES delivery, bounce and complaint'),
      Runtime: 'nodejs22.x',
    });
    const sesStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap(
        (policy) =>
          (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument
            .Statement,
      )
      .filter((statement) => [statement.Action].flat().includes('ses:SendEmail'));
    expect(sesStatements).toHaveLength(1);
    const resources = JSON.stringify(sesStatements[0]!.Resource);
    expect(resources).toContain(':identity/example.com');
    expect(resources).toContain(':configuration-set/');
    expect(resources).not.toContain('"*"');
  });
});

describe('SMS and Viber delivery', () => {
  it('grants sms-voice:SendTextMessage to the texts worker alone, on the configured origination identities only', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] }; Roles: { Ref: string }[] };
    }[];
    const granting = policies.filter((policy) =>
      policy.Properties.PolicyDocument.Statement.some((statement) => [statement.Action].flat().includes('sms-voice:SendTextMessage')),
    );
    expect(granting).toHaveLength(1);
    const statement = granting[0]!.Properties.PolicyDocument.Statement.find((candidate) =>
      [candidate.Action].flat().includes('sms-voice:SendTextMessage'),
    )!;
    expect([statement.Action].flat()).toEqual(['sms-voice:SendTextMessage']);
    expect([statement.Resource].flat().sort()).toEqual([
      'arn:aws:sms-voice:eu-west-1:123456789012:opt-out-list/Default',
      'arn:aws:sms-voice:eu-west-1:123456789012:pool/pool-0123abcd',
      'arn:aws:sms-voice:eu-west-1:123456789012:sender-id/Kvitka/*',
    ]);
    // The role is the worker's that consumes the texts queue.
    const functions = template.findResources('AWS::Lambda::Function') as Record<
      string,
      { Properties: { Description?: string; Role: { 'Fn::GetAtt': [string, string] } } }
    >;
    const worker = Object.values(functions).find((fn) => fn.Properties.Description?.startsWith('Hands queued SMS and Viber sends'))!;
    expect(granting[0]!.Properties.Roles).toEqual([{ Ref: worker.Properties.Role['Fn::GetAtt'][0] }]);
  });

  it('passes the sender IDs to the API, which lists and checks them', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Satellite HTTP API',
      Environment: { Variables: Match.objectLike({ SMS_SENDER_IDS: 'Kvitka,pool-0123abcd', TEXT_QUEUE_URL: Match.anyValue() }) },
    });
  });
});
