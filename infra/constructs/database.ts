import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { FlowLogDestination, InstanceClass, InstanceSize, InstanceType, Port, SecurityGroup, SubnetType, Vpc, type IVpc } from 'aws-cdk-lib/aws-ec2';
import {
  Credentials,
  DatabaseInstance,
  DatabaseInstanceEngine,
  DatabaseProxy,
  PostgresEngineVersion,
  ProxyTarget,
} from 'aws-cdk-lib/aws-rds';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The network and the platform store: a VPC (private subnets with one NAT for outbound calls
 * to customers' databases and webhook URLs), RDS PostgreSQL, and RDS Proxy in front of it so
 * any number of Lambdas share a bounded set of database connections.
 */
export class SatelliteDatabase extends Construct {
  readonly vpc: IVpc;
  readonly functionSecurityGroup: SecurityGroup;
  readonly proxy: DatabaseProxy;
  readonly secret: ISecret;
  readonly databaseName = 'satellite';

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'functions', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'database', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: { all: { destination: FlowLogDestination.toCloudWatchLogs() } },
    });

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
      instanceType: InstanceType.of(InstanceClass.T4G, InstanceSize.MEDIUM),
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      securityGroups: [databaseSecurityGroup],
      credentials: Credentials.fromGeneratedSecret('satellite'),
      databaseName: this.databaseName,
      port: 5433,
      multiAz: true,
      storageEncrypted: true,
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
    this.secret = instance.secret;
    // The rotation function must reach Secrets Manager: the isolated subnets have no way out.
    instance.addRotationSingleUser({ automaticallyAfter: Duration.days(30), vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS } });

    this.proxy = new DatabaseProxy(this, 'Proxy', {
      proxyTarget: ProxyTarget.fromInstance(instance),
      secrets: [instance.secret],
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

    Validations.of(instance).acknowledge({ id: 'AwsSolutions-RDS6', reason: 'Clients authenticate through RDS Proxy with the rotated Secrets Manager credentials; IAM database auth would add a token call per connection for no gain.' });
    Validations.of(this.functionSecurityGroup).acknowledge({ id: 'AwsSolutions-EC23', reason: 'No ingress rules; outbound is open because connectors and webhooks reach customer-given hosts (checked against private ranges in code).' });
  }
}
