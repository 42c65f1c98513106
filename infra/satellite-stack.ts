import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Trigger } from 'aws-cdk-lib/triggers';
import type { Construct } from 'constructs';
import { SatelliteApi } from './constructs/api';
import { SatelliteDatabase } from './constructs/database';
import { SatelliteFunction } from './constructs/satellite-function';

/** Satellite: wires the capability constructs together, nothing else. */
export class SatelliteStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const secretsPrefix = `${this.stackName}/`;

    const database = new SatelliteDatabase(this, 'Database');

    const migrations = new SatelliteFunction(this, 'Migrate', {
      functionDir: 'migrate',
      description: 'Applies platform store migrations on deploy',
      timeout: Duration.minutes(5),
      vpc: database.vpc,
      securityGroup: database.functionSecurityGroup,
    }).bindDatabase(database);
    new Trigger(this, 'MigrateOnDeploy', { handler: migrations, executeAfter: [database], executeOnHandlerChange: true });

    const api = new SatelliteApi(this, 'Api', { database, rateLimitPerSecond: 200 });
    api.handler.bindConnectorSecrets(secretsPrefix);

    new CfnOutput(this, 'ApiUrl', { value: api.httpApi.apiEndpoint });
  }
}
