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
   * Heavy packages the function really calls; the others are replaced by a stub that throws
   * (`infra/bundling/`), so they cost neither zip size nor module load. Default: neither.
   */
  readonly uses?: { readonly bigQuery?: boolean; readonly scheduler?: boolean; readonly email?: boolean; readonly sms?: boolean };
}

/** Packages left out of a function's bundle unless it declares it uses them. */
const optionalPackages = {
  bigQuery: ['@google-cloud/bigquery', 'absent-bigquery.ts'],
  scheduler: ['@aws-sdk/client-scheduler', 'absent-client-scheduler.ts'],
  email: ['@aws-sdk/client-sesv2', 'absent-client-sesv2.ts'],
  sms: ['@aws-sdk/client-pinpoint-sms-voice-v2', 'absent-client-pinpoint-sms-voice-v2.ts'],
} as const;

function absentPackages(uses: SatelliteFunctionProps['uses'] = {}): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const [use, [name, stub]] of Object.entries(optionalPackages) as [keyof typeof optionalPackages, readonly [string, string]][]) {
    if (!uses[use]) aliases[`--alias:${name}`] = path.join(ROOT, 'infra', 'bundling', stub);
  }
  return aliases;
}

const ROOT = path.join(__dirname, '..', '..');

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
        // Stack traces keep file and line; the sources themselves are not shipped (30-50 % of
        // the load time went into parsing them, with --enable-source-maps).
        sourceMap: true,
        sourcesContent: false,
        esbuildArgs: absentPackages(props.uses),
        // The AWS SDK's ES-module build, which esbuild can tree-shake: an SDK client's CommonJS
        // build is one file holding every command of its service (about 25 ms less module load
        // for the API, 15 ms for a worker).
        mainFields: ['module', 'main'],
        // The runtime ships AWS SDK v3, but pinning our own keeps behaviour equal to the tests.
        // nodemailer is reached only through the email adapters, imported on first send
        // (`shared/adapters/on-first-use.ts`): left out of functions that send no email.
        externalModules: props.uses?.email ? [] : ['nodemailer'],
        forceDockerBundling: false,
        ...(props.bundledFiles ? { commandHooks: copyHooks(props.bundledFiles) } : {}),
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
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

/** esbuild bundles code only: files read at run time are copied in after it. */
function copyHooks(files: Readonly<Record<string, readonly string[]>>) {
  return {
    beforeBundling: (): string[] => [],
    beforeInstall: (): string[] => [],
    afterBundling: (inputDir: string, outputDir: string): string[] =>
      Object.entries(files).flatMap(([folder, sources]) => [
        `mkdir -p "${path.join(outputDir, folder)}"`,
        ...sources.map((source) => `cp "${path.join(inputDir, source)}" "${path.join(outputDir, folder)}/"`),
      ]),
  };
}

/** The cdk-nag IAM5 finding id for a wildcard resource of this stack, as cdk-nag renders it. */
export function wildcardFinding(stack: Stack, service: string, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const partition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
  return `AwsSolutions-IAM5[Resource::arn:${partition}:${service}:${region}:${account}:${resource}]`;
}
