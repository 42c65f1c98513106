import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { queues } from '../../shared/topology';
import type { SatelliteDatabase } from './database';
import { wildcardFinding, type SatelliteFunction } from './satellite-function';
import type { SatelliteQueue } from './satellite-queue';
import { queueWorker } from './workers';

export interface TextDeliveryProps {
  readonly database: SatelliteDatabase;
  readonly webhooksQueue: IQueue;
  /**
   * Origination identities SMS may leave from (`cdk deploy -c smsSenderIds=Kvitka,pool-abc…`):
   * sender IDs by name, phone numbers and pools by id (`phone-…`, `pool-…`), or their ARNs.
   * The first is the default; SendTextMessage is granted on these only.
   */
  readonly senderIds: readonly string[];
}

/**
 * SMS and Viber out: the texts queue and its worker (AWS End User Messaging SMS). Email's
 * minute sweep also queues again text sends whose queue message was lost.
 */
export class TextDelivery extends Construct {
  readonly queue: SatelliteQueue;
  readonly sender: SatelliteFunction;

  constructor(scope: Construct, id: string, props: TextDeliveryProps) {
    super(scope, id);
    ({ queue: this.queue, worker: this.sender } = queueWorker(this, 'Sender', {
      database: props.database,
      topology: queues.texts,
      uses: { sms: true },
      description: 'Hands queued SMS and Viber sends to their provider, retrying what it refuses for now',
    }));
    this.sender.bindQueue('texts', this.queue.queue).bindQueue('webhooks', props.webhooksQueue);
    if (props.senderIds.length > 0) {
      this.sender.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['sms-voice:SendTextMessage'],
          resources: [...props.senderIds.map((identity) => originationIdentityArn(this, identity)), defaultOptOutListArn(this)],
        }),
      );
      for (const identity of props.senderIds.filter(isSenderIdName)) {
        Validations.of(this.sender).acknowledge({
          id: wildcardFinding(Stack.of(this), 'sms-voice', `sender-id/${identity}/*`),
          reason: `A sender ID's ARN ends in the country it is registered for; the grant is "${identity}" in every country it is registered in, nothing else.`,
        });
      }
    }
  }
}

/**
 * The IAM resource of an origination identity (the service authorization reference's
 * `sender-id/{SenderId}/{IsoCountryCode}`, `phone-number/{PhoneNumberId}`, `pool/{PoolId}`).
 * A sender ID is registered per country, so its grant covers every country it is registered in.
 * A phone number written as such (+1…) has no ARN of its own: give its id instead.
 */
export function originationIdentityArn(scope: Construct, identity: string): string {
  if (identity.startsWith('arn:')) return identity;
  if (identity.startsWith('+'))
    throw new Error(`smsSenderIds: give the phone number ${identity} by its id (phone-…) or ARN, so the grant can name it`);
  const [resource, resourceName] = identity.startsWith('phone-')
    ? ['phone-number', identity]
    : identity.startsWith('pool-')
      ? ['pool', identity]
      : ['sender-id', `${identity}/*`];
  return Stack.of(scope).formatArn({ service: 'sms-voice', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

function isSenderIdName(identity: string): boolean {
  return !identity.startsWith('arn:') && !identity.startsWith('phone-') && !identity.startsWith('pool-');
}

/** SendTextMessage checks the opt-out list of the identity too; without a configuration set that is the account's `Default` list. */
function defaultOptOutListArn(scope: Construct): string {
  return Stack.of(scope).formatArn({
    service: 'sms-voice',
    resource: 'opt-out-list',
    resourceName: 'Default',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}
