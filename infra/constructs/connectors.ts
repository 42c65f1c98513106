import { Duration } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Construct } from 'constructs';
import { connectorValidationPaths } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction } from './satellite-function';

/**
 * "Check connection": its own function, so a slow or hostile customer host only ever ties
 * up this function's time and network, with read access to connector secrets and nothing else.
 */
export class ConnectorValidation extends Construct {
  readonly validator: SatelliteFunction;

  constructor(scope: Construct, id: string, props: { database: SatelliteDatabase; secretsPrefix: string; httpApi: HttpApi }) {
    super(scope, id);
    this.validator = new SatelliteFunction(this, 'Validator', {
      functionDir: 'validate-connector',
      description: 'Checks a connector: connects, runs a test query, reports SSL and rights',
      timeout: Duration.seconds(30),
      memorySize: 512,
      uses: { bigQuery: true },
      vpc: props.database.vpc,
      securityGroup: props.database.functionSecurityGroup,
    })
      .bindDatabase(props.database)
      .bindConnectorSecretsReadOnly(props.secretsPrefix);
    // The same HTTP API (and the same authentication, in the function) routes the two checks here.
    const integration = new HttpLambdaIntegration('ValidateIntegration', this.validator);
    for (const path of Object.values(connectorValidationPaths)) {
      props.httpApi.addRoutes({ path, methods: [HttpMethod.POST], integration });
    }
  }
}
