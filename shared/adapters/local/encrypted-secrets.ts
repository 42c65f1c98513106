import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { NotFound } from '../../errors';
import type { Secrets } from '../../ports/secrets';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The local stand-in for Secrets Manager: AES-256-GCM ciphertext in the platform store,
 * keyed by SATELLITE_SECRETS_KEY, so a database dump alone reveals no password.
 */
export class EncryptedTableSecrets implements Secrets {
  private readonly key: Buffer;

  constructor(
    private readonly pool: Pool,
    passphrase: string,
  ) {
    this.key = createHash('sha256').update(passphrase).digest();
  }

  async put(name: string, value: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]);
    await this.pool.query(
      `INSERT INTO local_secrets (name, ciphertext) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, updated_at = now()`,
      [name, sealed],
    );
    return `local:${name}`;
  }

  async get(reference: string): Promise<string> {
    const { rows } = await this.pool.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM local_secrets WHERE name = $1', [nameOf(reference)]);
    const sealed = rows[0]?.ciphertext;
    if (!sealed) throw new NotFound('secret', 'SECRET_NOT_FOUND');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  async delete(reference: string): Promise<void> {
    await this.pool.query('DELETE FROM local_secrets WHERE name = $1', [nameOf(reference)]);
  }
}

function nameOf(reference: string): string {
  return reference.startsWith('local:') ? reference.slice('local:'.length) : reference;
}
