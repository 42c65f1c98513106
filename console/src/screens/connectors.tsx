import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { connectorFailureText } from '../connector-failures';
import { ListTable, RowButton } from '../forms';
import { confirmed, Field, LoadState, Notice, problemOf, Select, sentence, useLoad, type Loaded } from '../ui';

export interface Connector {
  readonly id: number;
  readonly kind: 'postgres' | 'bigquery';
  readonly name: string;
  readonly uniqueKey: { readonly column: string; readonly contactField: string };
  readonly postgres?: { host: string; port: number; database: string; user: string; sslMode: string; schema: string; caCertificate?: string };
  readonly bigquery?: { projectId: string; clientEmail: string; location?: string };
}

interface CheckResult {
  readonly kind: 'postgres' | 'bigquery';
  readonly serverVersion?: string;
  readonly latencyMs: number;
  readonly privileges?: { read: boolean; readableTables: number; export: boolean };
  readonly projectId?: string;
  readonly datasets?: number;
  readonly warnings: readonly { code: string; message: string }[];
}

/** The connector a new source or export works with; with none saved yet, where to make one. */
export function ConnectorPicker(props: {
  readonly connectors: Loaded<Connector[]>;
  readonly value: string;
  readonly onChange: (id: string, connector: Connector | undefined) => void;
  readonly error?: string | undefined;
}) {
  return (
    <LoadState loaded={props.connectors} what="connectors">
      {(list) =>
        list.length === 0 ? (
          <p class="empty">
            You have no connector yet. Connect a database on the <a href="#/connectors">Connectors</a> screen first.
          </p>
        ) : (
          <Select
            label="Connector"
            value={props.value}
            onChange={(value) =>
              props.onChange(
                value,
                list.find((candidate) => String(candidate.id) === value),
              )
            }
            options={[['', 'Choose a connector'], ...list.map((candidate) => [String(candidate.id), candidate.name] as const)]}
            error={props.error}
          />
        )
      }
    </LoadState>
  );
}

export const listConnectors = () => call<{ connectors: Connector[] }>('GET', '/api/v1/connectors').then((answer) => answer.connectors);

const contactFields = [
  ['email', 'Email'],
  ['sms', 'Phone number'],
  ['externalCustomerId', 'External customer ID'],
  ['contactId', 'Contact ID'],
] as const;

const sslModes = [
  ['prefer', 'prefer (SSL when the server offers it)'],
  ['require', 'require (always SSL)'],
  ['verify-full', 'verify-full (SSL, certificate checked)'],
  ['disable', 'disable (no SSL)'],
] as const;

const warningText: Readonly<Record<string, string>> = {
  NOT_SSL: 'The connection is not protected by SSL. Data travels unencrypted; choose the SSL mode “require” if the server supports it.',
  SCHEMA_NOT_FOUND:
    'The schema does not exist in this database, or this user may not use it. The connection works, but exports to it fail until your administrator creates it or grants access.',
  NO_READABLE_TABLES: 'This user cannot read any table yet. Ask your administrator to grant it read access (GRANT SELECT).',
  NO_DATASETS: 'The project has no dataset this key can see.',
};

type Editing = { kind: 'postgres' | 'bigquery'; connector?: Connector };

export function ConnectorsScreen() {
  const connectors = useLoad(listConnectors);
  const [editing, setEditing] = useState<Editing | undefined>();
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | undefined>();

  if (editing) {
    return (
      <ConnectorForm
        editing={editing}
        onDone={(text) => {
          setEditing(undefined);
          if (text) setMessage({ kind: 'success', text });
          connectors.reload();
        }}
      />
    );
  }
  return (
    <section aria-labelledby="connectors-title">
      <h1 id="connectors-title">Connectors</h1>
      <p class="lead">Connect your own database or warehouse to use its data in segments and messages, and to export Satellite’s data to it.</p>
      <div class="actions">
        <button type="button" onClick={() => setEditing({ kind: 'postgres' })}>
          Connect PostgreSQL
        </button>
        <button type="button" onClick={() => setEditing({ kind: 'bigquery' })}>
          Connect BigQuery
        </button>
      </div>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <LoadState loaded={connectors} what="connectors">
        {(list) =>
          list.length === 0 ? (
            <p class="empty">
              No connectors yet. Choose <strong>Connect PostgreSQL</strong> or <strong>Connect BigQuery</strong> to add the first one.
            </p>
          ) : (
            <ListTable caption="Your connectors" columns={['Name', 'Type', 'Where', 'Unique key']} withActions>
              {list.map((connector) => (
                <tr key={connector.id}>
                  <th scope="row">{connector.name}</th>
                  <td>{connector.kind === 'postgres' ? 'PostgreSQL' : 'BigQuery'}</td>
                  <td>
                    {connector.postgres
                      ? `${connector.postgres.host}:${connector.postgres.port} / ${connector.postgres.database}`
                      : connector.bigquery?.projectId}
                  </td>
                  <td>
                    {connector.uniqueKey.column} ={' '}
                    {contactFields.find(([value]) => value === connector.uniqueKey.contactField)?.[1] ?? connector.uniqueKey.contactField}
                  </td>
                  <td class="row-actions">
                    <RowButton
                      action="Edit"
                      target={connector.name}
                      kind="secondary"
                      onClick={() => setEditing({ kind: connector.kind, connector })}
                    />
                    <RowButton
                      action="Delete"
                      target={connector.name}
                      kind="danger"
                      onClick={() =>
                        void removeConnector(connector).then((text) => {
                          if (!text) return;
                          setMessage(text);
                          connectors.reload();
                        })
                      }
                    />
                  </td>
                </tr>
              ))}
            </ListTable>
          )
        }
      </LoadState>
    </section>
  );
}

async function removeConnector(connector: Connector): Promise<{ kind: 'success' | 'error'; text: string } | undefined> {
  const sources = await call<{ datasources: { id: number; name: string }[] }>('GET', `/api/v1/datasources?connectorId=${connector.id}`).then(
    (answer) => answer.datasources,
    () => [],
  );
  const dependants = sources.length ? ` Data sources that use it: ${sources.map((source) => source.name).join(', ')}.` : '';
  if (!confirmed(`Delete the connector “${connector.name}”?${dependants}`)) return undefined;
  try {
    await call('DELETE', `/api/v1/connectors/${connector.id}`);
    return { kind: 'success', text: `The connector “${connector.name}” was deleted.` };
  } catch (error) {
    return { kind: 'error', text: problemOf(error) };
  }
}

function ConnectorForm(props: { editing: Editing; onDone: (message?: string) => void }) {
  const saved = props.editing.connector;
  const kind = props.editing.kind;
  const [name, setName] = useState(saved?.name ?? '');
  const [host, setHost] = useState(saved?.postgres?.host ?? '');
  const [port, setPort] = useState(String(saved?.postgres?.port ?? 5432));
  const [database, setDatabase] = useState(saved?.postgres?.database ?? '');
  const [user, setUser] = useState(saved?.postgres?.user ?? '');
  const [password, setPassword] = useState('');
  const [sslMode, setSslMode] = useState(saved?.postgres?.sslMode ?? 'prefer');
  const [schema, setSchema] = useState(saved?.postgres?.schema ?? 'public');
  const [caCertificate, setCaCertificate] = useState(saved?.postgres?.caCertificate ?? '');
  const [keyFile, setKeyFile] = useState<string | undefined>();
  const [location, setLocation] = useState(saved?.bigquery?.location ?? '');
  const [keyColumn, setKeyColumn] = useState(saved?.uniqueKey.column ?? '');
  const [keyField, setKeyField] = useState(saved?.uniqueKey.contactField ?? 'email');
  const [check, setCheck] = useState<{ result?: CheckResult; failure?: string } | undefined>();
  const [busy, setBusy] = useState<'check' | 'save' | undefined>();
  const [error, setError] = useState<unknown>();

  const connection = () =>
    kind === 'postgres'
      ? {
          kind,
          host: host.trim(),
          port: Number(port),
          database,
          user,
          sslMode,
          schema: schema.trim(),
          ...(password ? { password } : {}),
          ...(sslMode === 'verify-full' && caCertificate ? { caCertificate } : {}),
        }
      : { kind, ...(keyFile ? { key: keyFile } : {}), ...(location.trim() ? { location: location.trim() } : {}) };

  const fieldError = (field: string) => (error instanceof ApiError ? error.fieldMessage(field) : undefined);

  const runCheck = async () => {
    setBusy('check');
    setCheck(undefined);
    setError(undefined);
    try {
      const credentialGiven = kind === 'postgres' ? Boolean(password) : Boolean(keyFile);
      // Editing without a new credential: check what is saved (the server keeps the secret).
      const result =
        saved && !credentialGiven
          ? await call<CheckResult>('POST', `/api/v1/connectors/${saved.id}/validate`)
          : await call<CheckResult>('POST', '/api/v1/connectors/validate', connection());
      setCheck({ result });
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 400) setError(failure);
      const text = failure instanceof ApiError && connectorFailureText[failure.code] ? connectorFailureText[failure.code] : problemOf(failure);
      setCheck({ failure: text });
    } finally {
      setBusy(undefined);
    }
  };

  const save = async () => {
    setBusy('save');
    setError(undefined);
    const body = { ...connection(), name, uniqueKey: { column: keyColumn, contactField: keyField } };
    try {
      if (saved) await call('PUT', `/api/v1/connectors/${saved.id}`, body);
      else await call('POST', '/api/v1/connectors', body);
      props.onDone(`The connector “${name.trim()}” was saved.`);
    } catch (failure) {
      setError(failure);
      setBusy(undefined);
    }
  };

  const title = `${saved ? 'Edit' : 'Connect'} ${kind === 'postgres' ? 'PostgreSQL' : 'BigQuery'}`;
  return (
    <section aria-labelledby="connector-form-title">
      <h1 id="connector-form-title">{title}</h1>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        {error !== undefined && <Notice kind="error">{connectorFailureText[(error as ApiError).code ?? ''] ?? problemOf(error)}</Notice>}
        <Field label="Name" value={name} onInput={setName} error={fieldError('name')} required />
        {kind === 'postgres' ? (
          <fieldset>
            <legend>Connection</legend>
            <Field label="Host" value={host} onInput={setHost} error={fieldError('host')} hint="The server’s domain name or IP address." required />
            <Field label="Port" type="number" value={port} onInput={setPort} error={fieldError('port')} required />
            <Field
              label="Database"
              value={database}
              onInput={setDatabase}
              error={fieldError('database')}
              hint="The database’s name on the server."
              required
            />
            <Field
              label="User"
              value={user}
              onInput={setUser}
              error={fieldError('user')}
              hint="A read-only role is enough for data sources."
              required
            />
            <Field
              label="Password"
              type="password"
              value={password}
              onInput={setPassword}
              error={fieldError('password')}
              autoComplete="new-password"
              {...(saved ? { hint: 'Leave empty to keep the saved password.' } : {})}
            />
            <Field
              label="Schema"
              value={schema}
              onInput={setSchema}
              error={fieldError('schema')}
              hint="Where exports write their tables and where data sources look first; public unless you use another."
              required
            />
            <Select label="SSL mode" value={sslMode} onChange={setSslMode} options={sslModes} error={fieldError('sslMode')} />
            {sslMode === 'verify-full' && (
              <div class="field">
                <label for="ca-certificate">CA certificate (PEM)</label>
                <textarea
                  id="ca-certificate"
                  rows={4}
                  value={caCertificate}
                  onInput={(event) => setCaCertificate((event.currentTarget as HTMLTextAreaElement).value)}
                />
                {fieldError('caCertificate') && <p class="field-error">{fieldError('caCertificate')}</p>}
              </div>
            )}
          </fieldset>
        ) : (
          <fieldset>
            <legend>Connection</legend>
            <div class="field">
              <label for="key-file">Service account key file (JSON)</label>
              <input
                id="key-file"
                type="file"
                accept="application/json,.json"
                onChange={(event) => {
                  const file = (event.currentTarget as HTMLInputElement).files?.[0];
                  if (file) void file.text().then(setKeyFile);
                }}
              />
              {saved?.bigquery && (
                <p class="hint">
                  Project {saved.bigquery.projectId}, {saved.bigquery.clientEmail}. Upload a file only to replace the key.
                </p>
              )}
              {fieldError('key') && <p class="field-error">{fieldError('key')}</p>}
            </div>
            <Field
              label="Location"
              value={location}
              onInput={setLocation}
              error={fieldError('location')}
              hint="Where queries run, for example EU or US. Leave empty for BigQuery’s default."
            />
          </fieldset>
        )}
        <div class="actions">
          <button type="button" class="secondary" disabled={busy !== undefined} onClick={() => void runCheck()}>
            {busy === 'check' ? 'Checking…' : 'Check connection'}
          </button>
        </div>
        {check?.result && <CheckReport result={check.result} />}
        {check?.failure && <Notice kind="error">Connection failed. {check.failure}</Notice>}
        <fieldset>
          <legend>Contact uniqueness</legend>
          <p class="hint">The column of your table that holds each contact’s unique key, and the contact field it matches in Satellite.</p>
          <Field label="Key column" value={keyColumn} onInput={setKeyColumn} error={fieldError('uniqueKey.column')} required />
          <Select
            label="Matches contact field"
            value={keyField}
            onChange={setKeyField}
            options={contactFields}
            error={fieldError('uniqueKey.contactField')}
          />
        </fieldset>
        <div class="actions">
          <button type="submit" disabled={busy !== undefined}>
            {busy === 'save' ? 'Saving…' : 'Save'}
          </button>
          <button type="button" class="secondary" onClick={() => props.onDone()}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function CheckReport(props: { result: CheckResult }) {
  const { result } = props;
  const details =
    result.kind === 'postgres'
      ? `PostgreSQL ${result.serverVersion ?? ''}, ${result.privileges?.readableTables ?? 0} readable tables, answered in ${result.latencyMs} ms.`
      : `Project ${result.projectId ?? ''}, ${result.datasets ?? 0} datasets, answered in ${result.latencyMs} ms.`;
  return (
    <>
      <Notice kind="success">Connection established. {details}</Notice>
      {result.warnings.map((warning) => (
        <Notice key={warning.code} kind="warning">
          {warningText[warning.code] ?? sentence(warning.message)}
        </Notice>
      ))}
    </>
  );
}
