import { publicBaseUrlOf, readConfig } from '../../shared/config';

/** What a deployed function is given by the stack (`bindDatabase`), and Lambda's own region. */
const deployed = {
  AWS_REGION: 'eu-west-1',
  DB_HOST: 'proxy.example',
  DB_NAME: 'satellite',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:db',
};
const local = { SATELLITE_RUNTIME: 'local', DATABASE_URL: 'postgres://127.0.0.1/satellite', SATELLITE_SECRETS_KEY: 'k' };

describe('configuration', () => {
  it('reads a deployed function with no local value standing in for a missing one', () => {
    const config = readConfig(deployed);
    expect(config).toMatchObject({
      runtime: 'aws',
      region: 'eu-west-1',
      database: { kind: 'secret', host: 'proxy.example', port: 5432 },
      databasePoolSize: 2,
    });
    // The API function is given its own URL; another function that asked for it would fail, naming it.
    expect(config.publicBaseUrl).toBeUndefined();
    expect(() => publicBaseUrlOf(config)).toThrow(
      expect.objectContaining({ code: 'CONFIG_MISSING', message: expect.stringContaining('PUBLIC_BASE_URL') }),
    );
    expect(config.secretsPrefix).toBeUndefined();
  });

  it.each([
    ['DB_HOST', { ...deployed, DB_HOST: undefined }],
    ['DB_SECRET_ARN', { ...deployed, DB_SECRET_ARN: '' }],
    ['AWS_REGION', { ...deployed, AWS_REGION: undefined }],
    ['SATELLITE_SECRETS_KEY', { ...local, SATELLITE_SECRETS_KEY: undefined }],
    ['DATABASE_URL', { ...local, DATABASE_URL: undefined }],
  ])('stops at start when %s is missing, naming it', (variable, env) => {
    expect(() => readConfig(env)).toThrow(
      expect.objectContaining({ code: 'CONFIG_MISSING', message: `environment variable ${variable} is not set` }),
    );
  });

  it.each([
    ['WEBHOOK_TIMEOUT_MS', 'soon'],
    ['EXPORT_CHUNK_ROWS', '0'],
    ['DB_PORT', '-1'],
    ['PUBLIC_BASE_URL', 'not a url'],
    ['SATELLITE_RUNTIME', 'laptop'],
  ])('stops at start when %s is %j, naming it', (variable, value) => {
    expect(() => readConfig({ ...deployed, [variable]: value })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(`environment variable ${variable} `) }),
    );
  });

  it('takes the values a function is given, an empty variable counting as unset', () => {
    const config = readConfig({
      ...deployed,
      PUBLIC_BASE_URL: 'https://api.example/',
      WEBHOOK_RETRY_BASE_SECONDS: '0',
      EXPORT_MAX_ATTEMPTS: '',
      SECRETS_PREFIX: 'Satellite/',
    });
    expect(config).toMatchObject({
      publicBaseUrl: 'https://api.example/',
      webhookRetryBaseSeconds: 0,
      exportMaxAttempts: 5,
      secretsPrefix: 'Satellite/',
    });
  });

  it('gives the local runtime its local defaults', () => {
    expect(readConfig(local)).toMatchObject({
      runtime: 'local',
      region: 'us-east-1',
      databasePoolSize: 10,
      secretsPrefix: 'satellite/',
      localSecretsKey: 'k',
    });
  });
});
