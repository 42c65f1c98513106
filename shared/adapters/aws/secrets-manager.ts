import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConfigMissing } from '../../config';
import type { Secrets } from '../../ports/secrets';

export class SecretsManagerSecrets implements Secrets {
  constructor(
    private readonly client: SecretsManagerClient,
    /** SECRETS_PREFIX: given (with the grant) only to functions that save connector secrets. */
    private readonly prefix: string | undefined,
  ) {}

  async put(name: string, value: string): Promise<string> {
    if (this.prefix === undefined) throw new ConfigMissing('SECRETS_PREFIX');
    const secretId = `${this.prefix}${name}`;
    try {
      const created = await this.client.send(new CreateSecretCommand({ Name: secretId, SecretString: value }));
      return created.ARN ?? secretId;
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      const updated = await this.client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
      return updated.ARN ?? secretId;
    }
  }

  async get(reference: string): Promise<string> {
    const result = await this.client.send(new GetSecretValueCommand({ SecretId: reference }));
    if (result.SecretString === undefined) throw new Error('secret has no string value');
    return result.SecretString;
  }

  async delete(reference: string): Promise<void> {
    await this.client.send(new DeleteSecretCommand({ SecretId: reference, RecoveryWindowInDays: 7 }));
  }
}
