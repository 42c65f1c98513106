import { useEffect, useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { FormActions, ListTable, RowButton, SubmitForm, useSubmission } from '../forms';
import { confirmed, Field, LoadState, Notice, problemOf, Select, useLoad } from '../ui';
import { ConnectorPicker, listConnectors } from './connectors';

export interface Source {
  readonly id: number;
  readonly connectorId: number;
  readonly name: string;
  readonly dataset: string;
  readonly table: string;
}

export const listSources = () => call<{ datasources: Source[] }>('GET', '/api/v1/datasources').then((answer) => answer.datasources);

export function SourcesScreen() {
  const sources = useLoad(() => Promise.all([listSources(), listConnectors()]));
  const [creating, setCreating] = useState(false);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | undefined>();

  if (creating) {
    return (
      <NewSource
        onDone={(text) => {
          setCreating(false);
          if (text) setMessage({ kind: 'success', text });
          sources.reload();
        }}
      />
    );
  }
  return (
    <section aria-labelledby="sources-title">
      <h1 id="sources-title">Data sources</h1>
      <p class="lead">
        A data source is one table of a connected database. Messages read its rows for each contact, and segments filter on its columns.
      </p>
      <div class="actions">
        <button type="button" onClick={() => setCreating(true)}>
          New source
        </button>
      </div>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <LoadState loaded={sources} what="data sources">
        {([list, connectors]) =>
          list.length === 0 ? (
            <p class="empty">
              No data sources yet.{' '}
              {connectors.length === 0 ? (
                <>
                  First connect a database on the <a href="#/connectors">Connectors</a> screen, then choose <strong>New source</strong>.
                </>
              ) : (
                <>
                  Choose <strong>New source</strong> to add a table of one of your connectors.
                </>
              )}
            </p>
          ) : (
            <ListTable caption="Your data sources" columns={['ID', 'Name', 'Connector', 'Table', 'Use in templates']} withActions>
              {list.map((source) => (
                <tr key={source.id}>
                  <td>{source.id}</td>
                  <th scope="row">{source.name}</th>
                  <td>{connectors.find((connector) => connector.id === source.connectorId)?.name ?? source.connectorId}</td>
                  <td>
                    {source.dataset}.{source.table}
                  </td>
                  <td>
                    <code>$data.get('{source.id}')</code> <span class="hint">in triggered messages; </span>
                    <code>$!data.get('{source.name}')</code> <span class="hint">in bulk ones</span>
                  </td>
                  <td class="row-actions">
                    <RowButton
                      action="Delete"
                      target={source.name}
                      kind="danger"
                      onClick={() =>
                        void removeSource(source).then((result) => {
                          if (!result) return;
                          setMessage(result);
                          sources.reload();
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

async function removeSource(source: Source): Promise<{ kind: 'success' | 'error'; text: string } | undefined> {
  if (!confirmed(`Delete the data source “${source.name}”?`)) return undefined;
  try {
    try {
      await call('DELETE', `/api/v1/datasources/${source.id}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'SOURCE_IN_USE') throw error;
      const uses = error.details.map((detail) => detail.message).join(', ');
      if (!confirmed(`“${source.name}” is still ${uses}. Delete it anyway? Those lose its data.`)) return undefined;
      await call('DELETE', `/api/v1/datasources/${source.id}?force=true`);
    }
    return { kind: 'success', text: `The data source “${source.name}” was deleted.` };
  } catch (error) {
    return { kind: 'error', text: problemOf(error) };
  }
}

interface Column {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
}

function NewSource(props: { onDone: (message?: string) => void }) {
  const connectors = useLoad(listConnectors);
  const [connectorId, setConnectorId] = useState('');
  const [dataset, setDataset] = useState('');
  const [table, setTable] = useState('');
  const [name, setName] = useState('');

  const datasets = useLoad(
    () =>
      connectorId
        ? call<{ datasets: { name: string }[] }>('GET', `/api/v1/connectors/${connectorId}/datasets?limit=1000`).then((answer) => answer.datasets)
        : Promise.resolve([]),
    [connectorId],
  );
  useEffect(() => {
    // A PostgreSQL connector's own schema comes first (seed 000: public unless it names another).
    const preferred = connectors.data?.find((candidate) => String(candidate.id) === connectorId)?.postgres?.schema;
    if (!dataset && preferred && datasets.data?.some((item) => item.name === preferred)) setDataset(preferred);
  }, [datasets.data]);
  const tables = useLoad(
    () =>
      connectorId && dataset
        ? call<{ tables: { name: string; type: string }[] }>(
            'GET',
            `/api/v1/connectors/${connectorId}/datasets/${encodeURIComponent(dataset)}/tables?limit=1000`,
          ).then((answer) => answer.tables)
        : Promise.resolve([]),
    [connectorId, dataset],
  );
  const columns = useLoad(
    () =>
      connectorId && dataset && table
        ? call<{ columns: Column[] }>(
            'GET',
            `/api/v1/connectors/${connectorId}/datasets/${encodeURIComponent(dataset)}/tables/${encodeURIComponent(table)}/columns`,
          ).then((answer) => answer.columns)
        : Promise.resolve([]),
    [connectorId, dataset, table],
  );
  useEffect(() => {
    // A table's name is a good first name for its source, when it is a valid one.
    if (table && !name && /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) setName(table);
  }, [table]);

  const submission = useSubmission(async () => {
    const created = await call<Source>('POST', '/api/v1/datasources', { connectorId: Number(connectorId), dataset, table, name });
    props.onDone(`The data source “${created.name}” was saved with ID ${created.id}. Use it in templates as $data.get('${created.id}').`);
  });
  const { fieldError } = submission;

  return (
    <section aria-labelledby="new-source-title">
      <h1 id="new-source-title">New source</h1>
      <h2>External data sources</h2>
      <SubmitForm submission={submission}>
        <ConnectorPicker
          connectors={connectors}
          value={connectorId}
          onChange={(value) => {
            setConnectorId(value);
            setDataset('');
            setTable('');
          }}
          error={fieldError('connectorId')}
        />
        {connectorId && (
          <LoadState loaded={datasets} what="schemas">
            {(list) => (
              <Select
                label="Schema or dataset"
                value={dataset}
                onChange={(value) => {
                  setDataset(value);
                  setTable('');
                }}
                options={[['', 'Choose a schema'], ...list.map((item) => [item.name, item.name] as const)]}
                error={fieldError('dataset')}
              />
            )}
          </LoadState>
        )}
        {dataset && (
          <LoadState loaded={tables} what="tables">
            {(list) =>
              list.length === 0 ? (
                <p class="empty">This schema has no table the connector’s user can read.</p>
              ) : (
                <Select
                  label="Table"
                  value={table}
                  onChange={setTable}
                  options={[['', 'Choose a table'], ...list.map((item) => [item.name, item.name] as const)]}
                  error={fieldError('table')}
                />
              )
            }
          </LoadState>
        )}
        {table && (
          <LoadState loaded={columns} what="columns">
            {(list) => (
              <table>
                <caption>
                  Columns of {dataset}.{table}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Column</th>
                    <th scope="col">Type</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((column) => (
                    <tr key={column.name}>
                      <td>{column.name}</td>
                      <td>{column.type}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </LoadState>
        )}
        <Field
          label="Name"
          value={name}
          onInput={setName}
          error={fieldError('name')}
          hint="Letters, digits and underscores; templates can read the source by this name."
          required
        />
        <FormActions submission={submission} label="Save" busyLabel="Saving…" onCancel={() => props.onDone()} />
      </SubmitForm>
    </section>
  );
}
