import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { CheckboxGroup, ListTable, RowButton, SubmitForm, useSubmission } from '../forms';
import { confirmed, Field, LoadState, Notice, problemOf, Select, useLoad } from '../ui';

interface App {
  readonly id: number;
  readonly clientId: string;
  readonly name: string;
  readonly clientType: 'confidential' | 'public';
  readonly redirectUris: readonly string[];
  readonly scopes: readonly string[];
  readonly hasLogo: boolean;
}

interface ConnectedApp {
  readonly appId: number;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly connectedAt: string;
  readonly lastUsedAt: string | null;
}

interface ApiKey {
  readonly id: number;
  readonly name: string;
  readonly prefix: string;
  readonly rights: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** Seed 004's rights, each an API key right and an OAuth scope. */
const rightLabels: readonly (readonly [string, string])[] = [
  ['fullApi', 'Full API access'],
  ['events', 'Events'],
  ['eventsAndContacts', 'Events and contacts'],
  ['eventsAndContactsWrite', 'Events and contacts (write only)'],
  ['messages', 'Messages'],
];
const rightLabel = (value: string) => rightLabels.find(([key]) => key === value)?.[1] ?? value;

type Outcome = { kind: 'success' | 'error'; text: string; secret?: { label: string; value: string } };

export function AppsScreen() {
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const apps = useLoad(() => call<App[]>('GET', '/api/v1/oauth/apps'));
  const connected = useLoad(() => call<ConnectedApp[]>('GET', '/api/v1/oauth/connected-apps'));
  const keys = useLoad(() => call<ApiKey[]>('GET', '/api/v1/api-keys'));

  const act = async (work: () => Promise<Outcome>, reload: () => void) => {
    try {
      setOutcome(await work());
    } catch (error) {
      setOutcome({ kind: 'error', text: problemOf(error) });
    }
    reload();
  };

  return (
    <section aria-labelledby="apps-title">
      <h1 id="apps-title">Apps</h1>
      {outcome && (
        <Notice kind={outcome.kind}>
          {outcome.text}
          {outcome.secret && (
            <p>
              {outcome.secret.label}:{' '}
              <code class="secret" aria-label={outcome.secret.label}>
                {outcome.secret.value}
              </code>{' '}
              <strong>Copy it now: it is not shown again.</strong>
            </p>
          )}
        </Notice>
      )}
      <RegisterApp
        onRegistered={(result) => {
          setOutcome(result);
          apps.reload();
        }}
      />

      <h2>Your apps</h2>
      <LoadState loaded={apps} what="apps">
        {(list) =>
          list.length === 0 ? (
            <p class="empty">No app registered yet. Partners register their app in the Authorization form above to get a client ID.</p>
          ) : (
            <ListTable caption="Apps registered by this account" columns={['App', 'Client ID', 'Scopes', 'Redirect URIs']} withActions>
              {list.map((app) => (
                <tr key={app.id}>
                  <th scope="row">
                    {app.name}
                    {app.hasLogo && <span class="hint"> (logo set)</span>}
                  </th>
                  <td>
                    <code>{app.clientId}</code>
                  </td>
                  <td>{app.scopes.map(rightLabel).join(', ')}</td>
                  <td>{app.redirectUris.join(' ') || '—'}</td>
                  <td class="row-actions">
                    {app.clientType === 'confidential' && (
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`New secret for ${app.name}`}
                        onClick={() =>
                          confirmed(`Make a new client secret for “${app.name}”? The current one stops working at once.`) &&
                          void act(async () => {
                            const { clientSecret } = await call<{ clientSecret: string }>('POST', `/api/v1/oauth/apps/${app.id}/secret`);
                            return {
                              kind: 'success',
                              text: `A new client secret was made for “${app.name}”.`,
                              secret: { label: 'Client secret', value: clientSecret },
                            };
                          }, apps.reload)
                        }
                      >
                        New secret
                      </button>
                    )}
                    <RowButton
                      action="Delete"
                      target={app.name}
                      kind="danger"
                      onClick={() =>
                        confirmed(`Delete the app “${app.name}”? Every account that connected it loses the connection.`) &&
                        void act(async () => {
                          await call('DELETE', `/api/v1/oauth/apps/${app.id}`);
                          return { kind: 'success', text: `The app “${app.name}” was deleted.` };
                        }, apps.reload)
                      }
                    />
                  </td>
                </tr>
              ))}
            </ListTable>
          )
        }
      </LoadState>

      <h2>Connected apps</h2>
      <LoadState loaded={connected} what="connected apps">
        {(list) =>
          list.length === 0 ? (
            <p class="empty">No app is connected to this account. Apps appear here once you approve them on their authorization page.</p>
          ) : (
            <ListTable caption="Apps that may act for this account" columns={['App', 'Scopes', 'Connected', 'Last used']} withActions>
              {list.map((app) => (
                <tr key={app.appId}>
                  <th scope="row">{app.name}</th>
                  <td>{app.scopes.map(rightLabel).join(', ')}</td>
                  <td>{new Date(app.connectedAt).toLocaleString()}</td>
                  <td>{app.lastUsedAt ? new Date(app.lastUsedAt).toLocaleString() : 'Never'}</td>
                  <td>
                    <RowButton
                      action="Revoke"
                      target={app.name}
                      kind="danger"
                      onClick={() =>
                        confirmed(`Revoke “${app.name}”? Every token it holds stops working at once.`) &&
                        void act(async () => {
                          await call('DELETE', `/api/v1/oauth/connected-apps/${app.appId}`);
                          return { kind: 'success', text: `“${app.name}” was disconnected.` };
                        }, connected.reload)
                      }
                    />
                  </td>
                </tr>
              ))}
            </ListTable>
          )
        }
      </LoadState>

      <h2>API keys</h2>
      <NewApiKey
        onCreated={(result) => {
          setOutcome(result);
          keys.reload();
        }}
      />
      <LoadState loaded={keys} what="API keys">
        {(list) => (
          <ListTable caption="API keys of this account" columns={['Name', 'Key', 'Rights', 'Created']} withActions>
            {list.map((key) => (
              <tr key={key.id}>
                <th scope="row">{key.name}</th>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{rightLabel(key.rights)}</td>
                <td>{new Date(key.createdAt).toLocaleString()}</td>
                <td>
                  {key.revokedAt ? (
                    `Revoked ${new Date(key.revokedAt).toLocaleString()}`
                  ) : (
                    <RowButton
                      action="Revoke"
                      target={`key ${key.name}`}
                      kind="danger"
                      onClick={() =>
                        confirmed(`Revoke the API key “${key.name}”? Whatever uses it stops working at once.`) &&
                        void act(async () => {
                          await call('DELETE', `/api/v1/api-keys/${key.id}`);
                          return { kind: 'success', text: `The API key “${key.name}” was revoked.` };
                        }, keys.reload)
                      }
                    />
                  )}
                </td>
              </tr>
            ))}
          </ListTable>
        )}
      </LoadState>
    </section>
  );
}

function RegisterApp(props: { onRegistered: (outcome: Outcome) => void }) {
  const [name, setName] = useState('');
  const [redirectUris, setRedirectUris] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [clientType, setClientType] = useState('confidential');
  const [logo, setLogo] = useState<File | undefined>();
  const submission = useSubmission(async () => {
    const uris = redirectUris.split(/\s+/).filter(Boolean);
    const app = await call<App & { clientSecret?: string }>('POST', '/api/v1/oauth/apps', { name, redirectUris: uris, scopes, clientType });
    let logoProblem = '';
    if (logo) {
      try {
        await call('PUT', `/api/v1/oauth/apps/${app.id}/logo`, logo);
      } catch (failure) {
        logoProblem = ` The logo was not saved: ${problemOf(failure)}`;
      }
    }
    props.onRegistered({
      kind: logoProblem ? 'error' : 'success',
      text: `The app “${app.name}” was registered. Client ID: ${app.clientId}.${logoProblem}`,
      ...(app.clientSecret ? { secret: { label: 'Client secret', value: app.clientSecret } } : {}),
    });
    setName('');
    setRedirectUris('');
    setScopes([]);
    setLogo(undefined);
  });
  const { error, busy } = submission;
  // By the field's first path segment: the server names redirectUris.1 or scopes.0.
  const fieldError = (field: string) =>
    error instanceof ApiError ? error.details.find((detail) => detail.path.replace(/^body\./, '').split('.')[0] === field)?.message : undefined;

  return (
    <SubmitForm submission={submission} labelledBy="register-title">
      <h2 id="register-title">Authorization form</h2>
      <p class="hint">Register your app to let Satellite accounts connect it. You get a client ID, and a client secret shown once.</p>
      <Field label="App name" value={name} onInput={setName} error={fieldError('name')} required />
      <div class="field">
        <label for="redirect-uris">Redirect URIs</label>
        <textarea
          id="redirect-uris"
          rows={2}
          value={redirectUris}
          aria-describedby="redirect-uris-hint"
          aria-invalid={fieldError('redirectUris') ? 'true' : undefined}
          onInput={(event) => setRedirectUris((event.currentTarget as HTMLTextAreaElement).value)}
        />
        <p class="hint" id="redirect-uris-hint">
          One per line; https (plain http only for 127.0.0.1 or localhost).
        </p>
        {fieldError('redirectUris') && <p class="field-error">{fieldError('redirectUris')}</p>}
      </div>
      <CheckboxGroup legend="Scopes" options={rightLabels} checked={scopes} onChange={setScopes} error={fieldError('scopes')} />
      <Select
        label="Client type"
        value={clientType}
        onChange={setClientType}
        options={[
          ['confidential', 'Server app (has a client secret)'],
          ['public', 'Browser or mobile app (PKCE, no secret)'],
        ]}
      />
      <div class="field">
        <label for="app-logo">Logo (PNG, GIF or JPG, up to 1 MB)</label>
        <input
          id="app-logo"
          type="file"
          accept="image/png,image/gif,image/jpeg"
          onChange={(event) => setLogo((event.currentTarget as HTMLInputElement).files?.[0])}
        />
      </div>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Registering…' : 'Register app'}
        </button>
      </div>
    </SubmitForm>
  );
}

function NewApiKey(props: { onCreated: (outcome: Outcome) => void }) {
  const [name, setName] = useState('');
  const [rights, setRights] = useState('fullApi');
  const submission = useSubmission(async () => {
    const created = await call<{ name: string; key: string }>('POST', '/api/v1/api-keys', { name, rights });
    setName('');
    props.onCreated({ kind: 'success', text: `The API key “${created.name}” was created.`, secret: { label: 'API key', value: created.key } });
  });
  return (
    <SubmitForm submission={submission} label="New API key">
      <Field label="Key name" value={name} onInput={setName} error={submission.fieldError('name')} required />
      <Select label="Rights" value={rights} onChange={setRights} options={rightLabels} />
      <div class="actions">
        <button type="submit" disabled={submission.busy}>
          Create API key
        </button>
      </div>
    </SubmitForm>
  );
}
