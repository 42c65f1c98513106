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
  app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'satellite-cdk-')), context });
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

  it('runs migrations on deploy', () => {
    template.resourceCountIs('Custom::Trigger', 1);
  });
});
