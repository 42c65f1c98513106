import { InstanceClass, InstanceSize, InstanceType } from 'aws-cdk-lib/aws-ec2';
import type { Node } from 'constructs';

/**
 * What differs between stages of one account (`cdk deploy -c stage=prod`). Every name in the
 * stack derives from the stack's own name (`Satellite-<stage>`), so stages deploy side by side.
 */
export interface StageSettings {
  readonly name: string;
  readonly production: boolean;
  /**
   * One NAT gateway per AZ keeps egress (customer databases, webhook URLs) alive when an AZ
   * fails; a non-production stage may take one (`-c singleNat=true`) to save ~$35 a month.
   */
  readonly natGateways: number;
  readonly databaseInstanceType: InstanceType;
  /** Who the alarms reach: e-mail addresses subscribed to the alarm topic (`-c alarmEmail=a@x,b@y`). */
  readonly alarmEmails: readonly string[];
  /**
   * The API's own domain (`-c domainName=api.example.com -c certificateArn=arn:aws:acm:…`, the
   * certificate in the stack's region): PUBLIC_BASE_URL and the OAuth issuer become
   * `https://<domainName>`. Without it they are the API Gateway endpoint.
   */
  readonly customDomain?: { readonly name: string; readonly certificateArn: string };
}

const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const AZS = 2;

export function stageFromContext(node: Node): StageSettings {
  const name = String(node.tryGetContext('stage') ?? 'dev');
  if (!STAGE_NAME.test(name)) throw new Error(`stage "${name}" must be lower-case letters, digits and dashes (at most 20)`);
  const production = name === 'prod' || name.startsWith('prod-');
  const singleNat = String(node.tryGetContext('singleNat') ?? 'false') === 'true';
  if (singleNat && production) throw new Error('a production stage keeps one NAT gateway per AZ; singleNat is for non-production stages');
  const alarmEmails = String(node.tryGetContext('alarmEmail') ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean);
  const domainName = node.tryGetContext('domainName') as string | undefined;
  const certificateArn = node.tryGetContext('certificateArn') as string | undefined;
  if (Boolean(domainName) !== Boolean(certificateArn)) throw new Error('a custom domain needs both domainName and certificateArn');
  return {
    name,
    ...(domainName && certificateArn ? { customDomain: { name: domainName, certificateArn } } : {}),
    production,
    natGateways: singleNat ? 1 : AZS,
    // Production: a non-burstable class, so a busy month never runs out of CPU credits (or
    // bills surplus ones); other stages stay on the burstable class and alarm on credits.
    databaseInstanceType: production
      ? InstanceType.of(InstanceClass.M7G, InstanceSize.LARGE)
      : InstanceType.of(InstanceClass.T4G, InstanceSize.MEDIUM),
    alarmEmails,
  };
}
