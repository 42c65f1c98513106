import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc } from 'aws-cdk-lib/aws-ec2';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import path from 'node:path';
import { queueUrlVariables } from '../../shared/config';
import type { QueueName } from '../../shared/topology';
import type { SatelliteDatabase } from './database';

export interface SatelliteFunctionProps {
  /** Folder under `functions/` holding `handler.ts`. */
  readonly functionDir: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly vpc: IVpc;
  readonly securityGroup: ISecurityGroup;
  readonly environment?: Readonly<Record<string, string>>;
  /** Files the handler reads at run time, copied beside the bundle: folder in the bundle → files relative to the project root. */
  readonly bundledFiles?: Readonly<Record<string, readonly string[]>>;
  readonly reservedConcurrentExecutions?: number;
  /**
   * Heavy packages the function really calls, each bundled on its own and loaded on first use;
   * the others are replaced by a stub that throws (`optionalPackages`). Default: none.
   */
  readonly uses?: { readonly bigQuery?: boolean; readonly scheduler?: boolean; readonly email?: boolean; readonly sms?: boolean };
}

const ROOT = path.join(__dirname, '..', '..');

/**
 * Packages the platform imports on first use only (`import()`), by the `uses` flag that says a
 * function calls them. A function that does not gets a stub that throws (`infra/bundling/`):
 * the package costs it neither zip size nor load. A function that does gets the package bundled
 * on its own into `node_modules/<package>/index.js`, left external to the main bundle: a cold
 * start neither parses nor compiles it, the first invocation that imports it loads it.
 */
const optionalPackages = {
  bigQuery: { name: '@google-cloud/bigquery', stub: 'absent-bigquery.ts', entry: 'bigquery.ts' },
  scheduler: { name: '@aws-sdk/client-scheduler', stub: 'absent-client-scheduler.ts', entry: 'client-scheduler.ts' },
  email: { name: '@aws-sdk/client-sesv2', stub: 'absent-client-sesv2.ts', entry: 'client-sesv2.ts' },
  sms: { name: '@aws-sdk/client-pinpoint-sms-voice-v2', stub: 'absent-client-pinpoint-sms-voice-v2.ts', entry: 'client-pinpoint-sms-voice-v2.ts' },
} as const;
/** Every function, deferred the same way: the platform imports the Tracer (and the X-Ray SDK) when it is built, on AWS only. */
const tracerPackage = { name: '@aws-lambda-powertools/tracer', entry: 'tracer.ts' } as const;

interface DeferredPackage {
  readonly name: string;
  readonly entry: string;
}

function packagesFor(uses: SatelliteFunctionProps['uses'] = {}): { stubs: Record<string, string>; deferred: DeferredPackage[] } {
  const stubs: Record<string, string> = {};
  const deferred: DeferredPackage[] = [tracerPackage];
  for (const [use, optional] of Object.entries(optionalPackages) as [
    keyof typeof optionalPackages,
    (typeof optionalPackages)[keyof typeof optionalPackages],
  ][]) {
    if (uses[use]) deferred.push(optional);
    else stubs[`--alias:${optional.name}`] = path.join(ROOT, 'infra', 'bundling', optional.stub);
  }
  return { stubs, deferred };
}

/**
 * Every Satellite Lambda: Node 22 on arm64, bundled by the local esbuild (no Docker), in the
 * VPC's private subnets, JSON logs kept a month. `bind*` helpers give a function an
 * environment variable and the IAM grant that goes with it in one call.
 */
export class SatelliteFunction extends NodejsFunction {
  /** Folder under `functions/` holding its handler (what `shared/topology.ts` calls a worker). */
  readonly functionDir: string;
  /** Reads the platform store: created or updated only after the deploy's migrations succeeded. */
  readsSchema = false;

  constructor(scope: Construct, id: string, props: SatelliteFunctionProps) {
    const packages = packagesFor(props.uses);
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    super(scope, id, {
      entry: path.join(ROOT, 'functions', props.functionDir, 'handler.ts'),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 1024,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: Tracing.ACTIVE,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.securityGroup],
      projectRoot: ROOT,
      depsLockFilePath: path.join(ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.CJS,
        target: 'node22',
        minify: true,
        // The map ships beside the bundle without the sources (30-50 % of the load time went into
        // parsing them). Node does not read it unless `--enable-source-maps` is set, which costs
        // every cold start 15-20 ms: an operator sets it on one function while debugging.
        sourceMap: true,
        sourcesContent: false,
        esbuildArgs: packages.stubs,
        // The AWS SDK's ES-module build, which esbuild can tree-shake: an SDK client's CommonJS
        // build is one file holding every command of its service (about 25 ms less module load
        // for the API, 15 ms for a worker).
        mainFields: ['module', 'main'],
        // The runtime ships AWS SDK v3, but pinning our own keeps behaviour equal to the tests.
        // nodemailer is reached only through the email adapters, imported on first send
        // (`shared/adapters/on-first-use.ts`): left out of functions that send no email.
        externalModules: [...(props.uses?.email ? [] : ['nodemailer']), ...packages.deferred.map((deferred) => deferred.name)],
        forceDockerBundling: false,
        commandHooks: afterBundling(props.bundledFiles ?? {}, packages.deferred),
      },
      environment: {
        POWERTOOLS_SERVICE_NAME: 'satellite',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
    });
    this.functionDir = props.functionDir;
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The AWS-managed basic execution policy allows logs:CreateLogGroup/CreateLogStream/PutLogEvents on any log group; accepted because the function logs to its own group (logGroup) and CloudWatch Logs holds nothing a function could read with it.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'The AWS-managed VPC access policy is the minimal set of ENI actions a function in a VPC needs.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.',
      },
      { id: 'AwsSolutions-L1', reason: 'The runtime is pinned to nodejs22.x on purpose: the design card names it and the code targets it.' },
    );
  }

  /** Platform database through RDS Proxy as the application user (DML only): host, name, its secret. */
  bindDatabase(database: SatelliteDatabase): this {
    this.addEnvironment('DB_HOST', database.proxy.endpoint);
    this.addEnvironment('DB_NAME', database.databaseName);
    this.addEnvironment('DB_SECRET_ARN', database.appSecret.secretArn);
    database.appSecret.grantRead(this);
    this.readsSchema = true;
    return this;
  }

  /**
   * The migrate function alone: the master secret (it manages the roles and logins), the
   * migrator's (it runs the DDL as the migrator) and the application user's, whose password it
   * sets on that login.
   */
  bindDatabaseAsMigrator(database: SatelliteDatabase): this {
    this.addEnvironment('DB_HOST', database.proxy.endpoint);
    this.addEnvironment('DB_NAME', database.databaseName);
    this.addEnvironment('DB_SECRET_ARN', database.masterSecret.secretArn);
    this.addEnvironment('DB_MIGRATOR_SECRET_ARN', database.migratorSecret.secretArn);
    this.addEnvironment('DB_APP_SECRET_ARN', database.appSecret.secretArn);
    database.masterSecret.grantRead(this);
    database.migratorSecret.grantRead(this);
    database.appSecret.grantRead(this);
    return this;
  }

  bindQueue(name: QueueName, queue: IQueue): this {
    this.addEnvironment(queueUrlVariables[name], queue.queueUrl);
    queue.grantSendMessages(this);
    return this;
  }

  /** Create, read, update and delete the connector credentials under the stack's prefix. */
  bindConnectorSecrets(prefix: string): this {
    const stack = Stack.of(this);
    this.addEnvironment('SECRETS_PREFIX', prefix);
    this.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:GetSecretValue',
          'secretsmanager:DeleteSecret',
          'secretsmanager:DescribeSecret',
          'secretsmanager:TagResource',
        ],
        resources: [
          stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ],
      }),
    );
    Validations.of(this).acknowledge({
      id: wildcardFinding(stack, 'secretsmanager', `secret:${prefix}*`),
      reason: 'Connector secrets are created at run time, one per connector, all under the stack prefix; the wildcard is limited to that prefix.',
    });
    return this;
  }

  /** Read-only access to connector secrets (functions that connect but never save). */
  bindConnectorSecretsReadOnly(prefix: string): this {
    const stack = Stack.of(this);
    this.addEnvironment('SECRETS_PREFIX', prefix);
    this.addToRolePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['secretsmanager:GetSecretValue'],
        resources: [
          stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${prefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ],
      }),
    );
    Validations.of(this).acknowledge({
      id: wildcardFinding(stack, 'secretsmanager', `secret:${prefix}*`),
      reason: 'Connector secrets are created at run time, one per connector, all under the stack prefix; read access is limited to that prefix.',
    });
    return this;
  }
}

/**
 * After esbuild: files read at run time are copied in (esbuild bundles code only), and each
 * deferred package is bundled on its own where Node's `require` finds it at run time.
 */
function afterBundling(files: Readonly<Record<string, readonly string[]>>, deferred: readonly DeferredPackage[]) {
  const esbuild = path.join(ROOT, 'node_modules', '.bin', 'esbuild');
  return {
    beforeBundling: (): string[] => [],
    beforeInstall: (): string[] => [],
    afterBundling: (inputDir: string, outputDir: string): string[] => [
      ...Object.entries(files).flatMap(([folder, sources]) => [
        `mkdir -p "${path.join(outputDir, folder)}"`,
        ...sources.map((source) => `cp "${path.join(inputDir, source)}" "${path.join(outputDir, folder)}/"`),
      ]),
      ...deferred.map(
        ({ name, entry }) =>
          `"${esbuild}" "${path.join(ROOT, 'infra', 'bundling', 'deferred', entry)}" --bundle --platform=node --format=cjs ` +
          `--target=node22 --minify --main-fields=module,main --sourcemap --sources-content=false --log-level=error ` +
          `--outfile="${path.join(outputDir, 'node_modules', name, 'index.js')}"`,
      ),
    ],
  };
}

/** The cdk-nag IAM5 finding id for a wildcard resource of this stack, as cdk-nag renders it. */
export function wildcardFinding(stack: Stack, service: string, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const partition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
  return `AwsSolutions-IAM5[Resource::arn:${partition}:${service}:${region}:${account}:${resource}]`;
}
