import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { DomainName, HttpApi, HttpMethod, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLED_ASSET_DIR, referenceAssets } from '../../functions/api/reference/assets';
import { connectionBudget } from '../../shared/topology';
import type { StageSettings } from '../stage';
import type { SatelliteDatabase } from './database';
import { SatelliteFunction } from './satellite-function';

export interface SatelliteApiProps {
  readonly database: SatelliteDatabase;
  readonly rateLimitPerSecond: number;
  readonly customDomain?: StageSettings['customDomain'];
}

/** The HTTP API: every route (REST, OAuth pages and endpoints) goes to one API Lambda. */
export class SatelliteApi extends Construct {
  readonly handler: SatelliteFunction;
  readonly httpApi: HttpApi;
  readonly publicBaseUrl: string;

  constructor(scope: Construct, id: string, props: SatelliteApiProps) {
    super(scope, id);
    this.handler = new SatelliteFunction(this, 'Handler', {
      functionDir: 'api',
      description: 'Satellite HTTP API',
      timeout: Duration.seconds(29),
      vpc: props.database.vpc,
      securityGroup: props.database.functionSecurityGroup,
      environment: { RATE_LIMIT_PER_SECOND: String(props.rateLimitPerSecond) },
      // The reference page's Swagger UI files, served by the function from its bundle.
      bundledFiles: { [BUNDLED_ASSET_DIR]: Object.values(referenceAssets).map((asset) => `node_modules/swagger-ui-dist/${asset.file}`) },
      // Kept for the API alone: a burst of jobs or of any other function can never starve it.
      reservedConcurrentExecutions: connectionBudget.apiReservedConcurrency,
      // Lists BigQuery datasets and tables; creates export and workflow schedules.
      uses: { bigQuery: true, scheduler: true, sms: true },
    }).bindDatabase(props.database);

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Satellite API',
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Integration', this.handler),
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    const domainName = props.customDomain
      ? new DomainName(this, 'Domain', {
          domainName: props.customDomain.name,
          certificate: Certificate.fromCertificateArn(this, 'Certificate', props.customDomain.certificateArn),
        })
      : undefined;
    this.httpApi.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: AccessLogFormat.jsonWithStandardFields() },
      // Gateway-wide ceiling; the per-account limit is enforced in the function (429).
      throttle: { rateLimit: 2000, burstLimit: 4000 },
      ...(domainName ? { domainMapping: { domainName } } : {}),
    });
    // The default integration would reach them too; named routes keep the public contract visible in the template.
    const integration = new HttpLambdaIntegration('ReferenceIntegration', this.handler);
    for (const path of ['/api/v1/openapi.json', '/docs', '/docs/reference.js', '/docs/assets/{asset}']) {
      this.httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration });
    }
    // Links in answers, OAuth redirects and the issuer all name this one address.
    this.publicBaseUrl = props.customDomain ? `https://${props.customDomain.name}` : this.httpApi.apiEndpoint;
    this.handler.addEnvironment('PUBLIC_BASE_URL', this.publicBaseUrl);
    if (domainName)
      new CfnOutput(Stack.of(this), 'CustomDomainTarget', {
        value: domainName.regionalDomainName,
        description: 'CNAME (or alias) the custom domain to this',
      });
    Validations.of(this.httpApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authentication (API keys over HTTP Basic, OAuth bearer tokens) and per-method-group authorisation happen in the API function; OAuth endpoints must be public.',
    });
  }
}
