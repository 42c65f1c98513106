import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
  type CfnEIP,
  type IVpc,
} from 'aws-cdk-lib/aws-ec2';
import {
  Credentials,
  DatabaseInstance,
  DatabaseInstanceEngine,
  DatabaseProxy,
  DatabaseSecret,
  PostgresEngineVersion,
  ProxyTarget,
  StorageType,
} from 'aws-cdk-lib/aws-rds';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { APP_DATABASE_USER, MIGRATOR_DATABASE_USER } from '../../shared/store/database-roles';
import type { StageSettings } from '../stage';

const VPC_CIDR = '10.0.0.0/16';
/** How often every database password is rotated. */
const ROTATION_PERIOD = Duration.days(30);

/**
 * The network and the platform store: a VPC (private subnets with a NAT per AZ for outbound
 * calls to customers' databases and webhook URLs, interface endpoints for the AWS APIs the
 * functions call), RDS PostgreSQL, and RDS Proxy in front of it so any number of Lambdas
 * share a bounded set of database connections.
 */
export class SatelliteDatabase extends Construct {
  readonly vpc: IVpc;
  readonly functionSecurityGroup: SecurityGroup;
  readonly instance: DatabaseInstance;
  readonly proxy: DatabaseProxy;
  /** The master user's secret: the migrate function's alone, which manages roles with it. */
  readonly masterSecret: ISecret;
  /** The migrator's secret (DDL, owns the schema, `shared/store/database-roles.ts`): the migrate function's alone. */
  readonly migratorSecret: ISecret;
  /** The application user's secret (DML only, `shared/store/database-roles.ts`): every other function's. */
  readonly appSecret: ISecret;
  readonly databaseName = 'satellite';

  constructor(scope: Construct, id: string, props: { stage: StageSettings }) {
    super(scope, id);
    const stack = Stack.of(this);
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(VPC_CIDR),
      maxAzs: 2,
      natGateways: props.stage.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'functions', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'database', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: { all: { destination: FlowLogDestination.toCloudWatchLogs() } },
    });
    // AWS API calls stay inside the VPC: they keep working when a NAT's AZ fails (a new database
    // connection needs GetSecretValue first) and cost no NAT processing.
    // HTTPS from inside the VPC only (the Lambdas and the rotation functions).
    const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(Peer.ipv4(VPC_CIDR), Port.tcp(443), 'AWS API calls from the VPC');
    for (const [endpointId, service] of [
      ['SqsEndpoint', InterfaceVpcEndpointAwsService.SQS],
      ['SecretsManagerEndpoint', InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['SchedulerEndpoint', new InterfaceVpcEndpointAwsService('scheduler')],
    ] as const) {
      this.vpc.addInterfaceEndpoint(endpointId, {
        service,
        subnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
        open: false,
        securityGroups: [endpointSecurityGroup],
      });
    }
    // Customers allowlist these addresses on their databases and webhook receivers.
    const egressIps = this.vpc.publicSubnets.flatMap((subnet) => subnet.node.children.filter((child): child is CfnEIP => child.node.id === 'EIP'));
    egressIps.forEach(
      (eip, index) => new CfnOutput(stack, `EgressIp${index + 1}`, { value: eip.attrPublicIp, description: 'Outbound address customers allowlist' }),
    );

    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Satellite Lambdas: outbound to the proxy, customer databases and webhook URLs',
      allowAllOutbound: true,
    });
    const databaseSecurityGroup = new SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: this.vpc,
      description: 'Satellite PostgreSQL: reachable from RDS Proxy only',
      allowAllOutbound: false,
    });
    const proxySecurityGroup = new SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: this.vpc,
      description: 'RDS Proxy: reachable from Satellite Lambdas only',
      allowAllOutbound: false,
    });

    const instance = new DatabaseInstance(this, 'Instance', {
      engine: DatabaseInstanceEngine.postgres({ version: PostgresEngineVersion.VER_17 }),
      instanceType: props.stage.databaseInstanceType,
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      securityGroups: [databaseSecurityGroup],
      credentials: Credentials.fromGeneratedSecret('satellite'),
      databaseName: this.databaseName,
      port: 5433,
      multiAz: true,
      storageEncrypted: true,
      // gp3: the price of gp2 with a 3,000 IOPS baseline instead of 150 at this size.
      storageType: StorageType.GP3,
      allocatedStorage: 50,
      maxAllocatedStorage: 500,
      backupRetention: Duration.days(14),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      enablePerformanceInsights: true,
      cloudwatchLogsExports: ['postgresql'],
      parameters: { 'rds.force_ssl': '1' },
    });
    if (!instance.secret) throw new Error('database credentials secret missing');
    this.instance = instance;
    this.masterSecret = instance.secret;
    // The rotation functions run beside the Lambdas: they reach Secrets Manager through its endpoint.
    const rotationSubnets = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };
    instance.addRotationSingleUser({ automaticallyAfter: ROTATION_PERIOD, vpcSubnets: rotationSubnets });
    // A login of its own, rotated on its own by cloning the user (multi-user rotation). The first
    // rotation clones a user the migrate function creates after the database exists: rotating
    // at creation would run before it and fail.
    const rotatedLogin = (id: string, username: string, secretName: string): ISecret => {
      const secret = new DatabaseSecret(this, `${id}Secret`, { username, secretName, masterSecret: instance.secret }).attach(instance);
      instance.addRotationMultiUser(`${id}Rotation`, {
        secret,
        automaticallyAfter: ROTATION_PERIOD,
        vpcSubnets: rotationSubnets,
        rotateImmediatelyOnUpdate: false,
      });
      return secret;
    };
    // The application user's password: the migrate function sets it on the role at every deploy
    // (the role itself comes from a migration).
    this.appSecret = rotatedLogin('App', APP_DATABASE_USER, `${stack.stackName}-db-app`);
    // The migrator's password: the migrate function makes its login with the master user before
    // it runs the migrations as it.
    this.migratorSecret = rotatedLogin('Migrator', MIGRATOR_DATABASE_USER, `${stack.stackName}-db-migrator`);

    this.proxy = new DatabaseProxy(this, 'Proxy', {
      proxyTarget: ProxyTarget.fromInstance(instance),
      // Named after the stack, so stages deploy side by side in one account.
      dbProxyName: `${stack.stackName}-proxy`.toLowerCase(),
      secrets: [instance.secret, this.migratorSecret, this.appSecret],
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      securityGroups: [proxySecurityGroup],
      requireTLS: true,
      // Lambdas never exhaust the database: the proxy keeps at most this share of max_connections.
      maxConnectionsPercent: 80,
      borrowTimeout: Duration.seconds(30),
    });
    proxySecurityGroup.addIngressRule(this.functionSecurityGroup, Port.tcp(5432), 'Lambdas to RDS Proxy');
    proxySecurityGroup.addEgressRule(databaseSecurityGroup, Port.tcp(5433), 'RDS Proxy to PostgreSQL');
    databaseSecurityGroup.addIngressRule(proxySecurityGroup, Port.tcp(5433), 'RDS Proxy to PostgreSQL');
  }
}
