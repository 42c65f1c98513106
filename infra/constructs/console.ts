import { Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
  type BehaviorOptions,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { buildConsoleSync, CONSOLE_CONTENT_SECURITY_POLICY } from '../../console/build';

export interface WebConsoleProps {
  readonly httpApi: HttpApi;
}

/**
 * The paths the HTTP API answers; everything else is the console's files. A test holds every
 * route of the API to one of these, so a new public path cannot fall through to the bucket.
 */
// `/t/*` are the signed open, click and unsubscribe links in sent email, `/view/*` a message's
// signed web view; `/local/*` answers 404 here.
export const API_PATH_PATTERNS = ['/api/*', '/oauth/*', '/uaa/*', '/.well-known/*', '/docs', '/docs/*', '/t/*', '/view/*', '/local/*'] as const;

/**
 * The web console (docs/console.md) on the same origin as the API: CloudFront serves the
 * built files from a private S3 bucket and sends the API's paths to the HTTP API, so the
 * console's session cookie stays first-party and SameSite=Strict.
 */
export class WebConsole extends Construct {
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: WebConsoleProps) {
    super(scope, id);
    // CloudFront standard logs are delivered with ACLs, so this bucket keeps them enabled.
    const logs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const files = new Bucket(this, 'Files', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 's3/',
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const pageHeaders = new ResponseHeadersPolicy(this, 'PageHeaders', {
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONSOLE_CONTENT_SECURITY_POLICY, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'cache-control', value: 'no-cache', override: true }] },
    });
    // The API's own answers pass through untouched: never cached, every header, cookie and query string forwarded.
    const api: BehaviorOptions = {
      origin: new HttpOrigin(Fn.select(2, Fn.split('/', props.httpApi.apiEndpoint)), { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Satellite console and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(files),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: pageHeaders,
      },
      additionalBehaviors: Object.fromEntries(API_PATH_PATTERNS.map((pattern) => [pattern, api])),
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
    });
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'The console and API serve customers worldwide; no geo restriction applies.' },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Abuse is limited in the API (per-account rate limit, login throttling per account and IP); a WAF web ACL can be attached by the operator.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason: 'The default CloudFront certificate is used until an operator adds a custom domain; with it the minimum protocol is TLS 1.2 (2021).',
      },
    );

    const built = buildConsoleSync();
    const deployment = new BucketDeployment(this, 'Deploy', {
      sources: [...built].map(([urlPath, file]) => Source.data(urlPath === '/' ? 'index.html' : urlPath.slice(1), file.body.toString('utf8'))),
      destinationBucket: files,
      distribution: this.distribution,
      distributionPaths: ['/*'],
    });
    // CDK's copy function for deployments, one per stack (beside the stack, not under this construct).
    const stack = Stack.of(this);
    const copier = stack.node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    // cdk-nag names the CDK asset bucket by account and region (placeholders when the environment
    // is left to deploy time); the partition is written out, as the feature flags in cdk.json make it.
    const where =
      Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region) ? '<AWS::AccountId>-<AWS::Region>' : `${stack.account}-${stack.region}`;
    // The findings on the function's grants land on its role; the one on its runtime on the function.
    Validations.of(deployment.handlerRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's deployment function: the AWS-managed basic execution policy only lets it write its logs.",
      },
      {
        id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        reason: "CDK's deployment function reads the CDK asset bucket and writes the console bucket only; these are CDK's own grants.",
      },
      { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: 'As above: read the uploaded console files from the CDK asset bucket.' },
      { id: 'AwsSolutions-IAM5[Action::s3:List*]', reason: 'As above: list the source and destination buckets to sync them.' },
      { id: 'AwsSolutions-IAM5[Action::s3:Abort*]', reason: 'As above: abort an interrupted upload to the console bucket.' },
      { id: 'AwsSolutions-IAM5[Action::s3:DeleteObject*]', reason: 'As above: remove console files a new build no longer has (prune).' },
      {
        id: `AwsSolutions-IAM5[Resource::arn:aws:s3:::cdk-hnb659fds-assets-${where}/*]`,
        reason: "The objects of the CDK asset bucket, where the deployment's asset is uploaded.",
      },
      {
        id: 'AwsSolutions-IAM5[Resource::<ConsoleFiles2D43986C.Arn>/*]',
        reason: 'Every object of the console bucket, which holds nothing but the console.',
      },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'CloudFront CreateInvalidation has no resource-level permission.' },
    );
    if (copier) Validations.of(copier).acknowledge({ id: 'AwsSolutions-L1', reason: 'CDK picks the runtime of its deployment function.' });
  }
}
