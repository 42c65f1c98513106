import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { CheckboxGroup, FormActions, ListTable, RowButton, SubmitForm, useSubmission } from '../forms';
import { confirmed, Field, LoadState, Notice, problemOf, Select, sentence, useLoad } from '../ui';
import { ConnectorPicker, listConnectors } from './connectors';

interface DataExport {
  readonly id: number;
  readonly connectorId: number;
  readonly destination: 'postgres' | 'bigquery';
  readonly datasets: readonly string[];
  readonly interval: string;
  readonly schema?: string;
  readonly dataset?: string;
  readonly paused: boolean;
}

interface Run {
  readonly id: number;
  readonly dataset: string;
  readonly trigger: 'schedule' | 'manual';
  readonly status: 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed';
  readonly rowsWritten: number;
  readonly attempts: number;
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: { code: string; message: string } | null;
}

const datasetLabels: readonly (readonly [string, string])[] = [
  ['contacts', 'Contacts'],
  ['contactActivities', 'Contact activities'],
  ['messages', 'Messages'],
  ['broadcasts', 'Broadcasts'],
  ['devices', 'Devices'],
  ['orders', 'Orders'],
  ['orderItems', 'Order items'],
  ['revenue', 'Revenue'],
];

/** The upload intervals, with their length: exports run on the epoch-aligned multiples of it. */
const intervals: readonly (readonly [string, string, number])[] = [
  ['every15Minutes', 'Every 15 minutes', 15 * 60],
  ['hourly', 'Every hour', 60 * 60],
  ['every6Hours', 'Every 6 hours', 6 * 60 * 60],
  ['daily', 'Every day', 24 * 60 * 60],
];

const labelOf = (pairs: readonly (readonly [string, string, ...unknown[]])[], value: string) => pairs.find(([key]) => key === value)?.[1] ?? value;

export function ExportsScreen() {
  const loaded = useLoad(() => Promise.all([call<DataExport[]>('GET', '/api/v1/exports'), listConnectors()]));
  const [creating, setCreating] = useState(false);
  const [history, setHistory] = useState<number | undefined>();
  // Bumped by Run now, so an open history starts over and follows the new runs.
  const [runsStarted, setRunsStarted] = useState(0);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | undefined>();

  if (creating) {
    return (
      <NewExport
        onDone={(text) => {
          setCreating(false);
          if (text) setMessage({ kind: 'success', text });
          loaded.reload();
        }}
      />
    );
  }
  const act = async (work: () => Promise<unknown>, done: string) => {
    try {
      await work();
      setMessage({ kind: 'success', text: done });
    } catch (error) {
      setMessage({ kind: 'error', text: problemOf(error) });
    }
    loaded.reload();
  };
  return (
    <section aria-labelledby="exports-title">
      <h1 id="exports-title">Data export</h1>
      <p class="lead">Satellite copies your data (contacts, activities, messages, orders…) into your own database on a schedule.</p>
      <div class="actions">
        <button type="button" onClick={() => setCreating(true)}>
          New data export
        </button>
      </div>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <LoadState loaded={loaded} what="exports">
        {([exports, connectors]) =>
          exports.length === 0 ? (
            <p class="empty">
              No data export yet. Choose <strong>New data export</strong>, pick a PostgreSQL or BigQuery connector and the data to copy.
            </p>
          ) : (
            <>
              <ListTable caption="Your data exports" columns={['Export', 'Interval', 'Datasets', 'Status']} withActions>
                {exports.map((item) => {
                  const name = `Export ${item.id} to ${connectors.find((connector) => connector.id === item.connectorId)?.name ?? 'connector ' + item.connectorId}`;
                  return (
                    <tr key={item.id}>
                      <th scope="row">
                        {name}{' '}
                        <span class="hint">
                          ({item.destination === 'postgres' ? 'schema' : 'dataset'} {item.schema ?? item.dataset})
                        </span>
                      </th>
                      <td>{labelOf(intervals, item.interval)}</td>
                      <td>{item.datasets.map((dataset) => labelOf(datasetLabels, dataset)).join(', ')}</td>
                      <td>{item.paused ? 'Paused' : `Active; next run ${nextRun(item.interval)}`}</td>
                      <td class="row-actions">
                        <button
                          type="button"
                          aria-label={`Run now: ${name}`}
                          onClick={() =>
                            void act(() => call('POST', `/api/v1/exports/${item.id}/run`), `${name} started.`).then(() => {
                              setHistory(item.id);
                              setRunsStarted((count) => count + 1);
                            })
                          }
                        >
                          Run now
                        </button>
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Run history of ${name}`}
                          aria-expanded={history === item.id}
                          onClick={() => setHistory(history === item.id ? undefined : item.id)}
                        >
                          Run history
                        </button>
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`${item.paused ? 'Resume' : 'Pause'} ${name}`}
                          onClick={() =>
                            void act(
                              () => call('POST', `/api/v1/exports/${item.id}/${item.paused ? 'resume' : 'pause'}`),
                              `${name} ${item.paused ? 'resumed' : 'paused'}.`,
                            )
                          }
                        >
                          {item.paused ? 'Resume' : 'Pause'}
                        </button>
                        <RowButton
                          action="Delete"
                          target={name}
                          kind="danger"
                          onClick={() =>
                            confirmed(`Delete ${name}? The data already copied stays in your database.`) &&
                            void act(() => call('DELETE', `/api/v1/exports/${item.id}`), `${name} deleted.`)
                          }
                        />
                      </td>
                    </tr>
                  );
                })}
              </ListTable>
              {history !== undefined && exports.some((item) => item.id === history) && (
                <RunHistory key={`${history}-${runsStarted}`} exportId={history} />
              )}
            </>
          )
        }
      </LoadState>
    </section>
  );
}

function nextRun(interval: string): string {
  const seconds = intervals.find(([key]) => key === interval)?.[2] ?? 3600;
  const next = Math.ceil(Date.now() / 1000 / seconds) * seconds * 1000;
  return new Date(next).toLocaleString();
}

function RunHistory(props: { exportId: number }) {
  const runs = useLoad(() => call<Run[]>('GET', `/api/v1/exports/${props.exportId}/runs?limit=50`), [props.exportId]);
  const active = runs.data?.some((run) => run.status === 'queued' || run.status === 'running' || run.status === 'retrying') ?? false;
  useEffect(() => {
    // Long work shows its progress: while a run is under way, ask again every second.
    if (!active) return;
    const timer = setTimeout(runs.reload, 1000);
    return () => clearTimeout(timer);
  }, [active, runs.data]);
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Run history of export {props.exportId}</h2>
      <LoadState loaded={runs} what="runs">
        {(list) =>
          list.length === 0 ? (
            <p class="empty">
              This export has not run yet. Choose <strong>Run now</strong>, or wait for its next scheduled run.
            </p>
          ) : (
            <>
              {active && (
                <p role="status" aria-live="polite">
                  Export running… {list.filter((run) => run.status === 'succeeded').length} of {list.length} datasets done.
                </p>
              )}
              <RowsChart runs={list} />
              <ListTable caption="Runs, newest first" columns={['Started', 'Dataset', 'Trigger', 'Status', 'Rows', 'Duration', 'Last error']}>
                {list.map((run) => (
                  <tr key={run.id}>
                    <td>{new Date(run.startedAt ?? run.queuedAt).toLocaleString()}</td>
                    <td>{labelOf(datasetLabels, run.dataset)}</td>
                    <td>{run.trigger === 'manual' ? 'Run now' : 'Schedule'}</td>
                    <td>{statusText[run.status]}</td>
                    <td>{run.rowsWritten}</td>
                    <td>
                      {run.startedAt && run.finishedAt ? `${((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000).toFixed(1)} s` : '—'}
                    </td>
                    <td>{run.error ? sentence(run.error.message) : '—'}</td>
                  </tr>
                ))}
              </ListTable>
            </>
          )
        }
      </LoadState>
    </section>
  );
}

const statusText: Readonly<Record<Run['status'], string>> = {
  queued: 'Waiting',
  running: 'Running',
  retrying: 'Retrying',
  succeeded: 'Done',
  failed: 'Failed',
};

/** Rows written per run, oldest on the left: a glance at whether the volume looks right. */
function RowsChart(props: { runs: readonly Run[] }) {
  const runs = [...props.runs].reverse().slice(-30);
  const highest = Math.max(1, ...runs.map((run) => run.rowsWritten));
  const width = 12;
  const height = 60;
  // Wide enough for its caption even with a single run.
  const chartWidth = Math.max(120, runs.length * (width + 2));
  const total = runs.reduce((sum, run) => sum + run.rowsWritten, 0);
  return (
    <svg
      class="chart"
      role="img"
      aria-label={`Rows per run: ${runs.length} runs, ${total} rows in all, at most ${highest} in one run`}
      width={chartWidth}
      height={height + 14}
      viewBox={`0 0 ${chartWidth} ${height + 14}`}
    >
      {runs.map((run, index) => {
        const barHeight = Math.max(1, Math.round((run.rowsWritten / highest) * height));
        return (
          <rect key={run.id} x={index * (width + 2)} y={height - barHeight} width={width} height={barHeight}>
            <title>{`${labelOf(datasetLabels, run.dataset)}: ${run.rowsWritten} rows`}</title>
          </rect>
        );
      })}
      <text x="0" y={height + 12}>
        rows per run
      </text>
    </svg>
  );
}

function NewExport(props: { onDone: (message?: string) => void }) {
  const connectors = useLoad(listConnectors);
  const [connectorId, setConnectorId] = useState('');
  const [interval, setUploadInterval] = useState('hourly');
  const [datasets, setDatasets] = useState<string[]>([]);
  const [schema, setSchema] = useState('public');
  const connector = connectors.data?.find((candidate) => String(candidate.id) === connectorId);
  const submission = useSubmission(async () => {
    const target = connector?.kind === 'bigquery' ? { dataset: schema } : { schema };
    await call('POST', '/api/v1/exports', { connectorId: Number(connectorId), interval, datasets, ...target });
    props.onDone('The data export was saved. Its first run starts at the next interval, or now with Run now.');
  });
  const { fieldError } = submission;
  return (
    <section aria-labelledby="new-export-title">
      <h1 id="new-export-title">New data export</h1>
      <SubmitForm submission={submission}>
        <ConnectorPicker
          connectors={connectors}
          value={connectorId}
          onChange={(value, chosen) => {
            setConnectorId(value);
            // Seed 000: the connector's schema unless another is chosen here; BigQuery names its dataset here.
            setSchema(chosen?.postgres?.schema ?? '');
          }}
          error={fieldError('connectorId')}
        />
        <Select
          label="Upload interval"
          value={interval}
          onChange={setUploadInterval}
          options={intervals.map(([value, label]) => [value, label] as const)}
          error={fieldError('interval')}
        />
        <CheckboxGroup
          legend="Datasets"
          options={datasetLabels}
          checked={datasets}
          onChange={setDatasets}
          error={fieldError('datasets') && 'Tick at least one dataset.'}
        />
        <Field
          label={connector?.kind === 'bigquery' ? 'Dataset' : 'Schema'}
          value={schema}
          onInput={setSchema}
          error={fieldError('schema') ?? fieldError('dataset')}
          hint={
            connector?.kind === 'bigquery'
              ? 'The BigQuery dataset the tables are written to.'
              : 'The tables are created in this schema: the connector’s (public unless it names another), or the one you enter.'
          }
        />
        <FormActions submission={submission} label="Save" busyLabel="Saving…" onCancel={() => props.onDone()} />
      </SubmitForm>
    </section>
  );
}
