import { useState } from 'preact/hooks';
import { ApiError, call, callWithHeaders } from '../api';
import { contactLabel, type Contact } from '../contacts';
import { confirmed, Field, LoadState, Notice, problemOf, Select, useLoad } from '../ui';
import { listConnectors } from './connectors';
import { listSources, type Source } from './sources';

interface Segment {
  readonly id: number;
  readonly name: string;
  readonly conditions: readonly unknown[];
}

interface Column {
  readonly name: string;
  readonly type: string;
}

type ColumnKind = 'number' | 'date' | 'boolean' | 'text';

/** The column's kind by its PostgreSQL or BigQuery type name, which decides the operators offered. */
function kindOf(type: string): ColumnKind {
  const name = type.toLowerCase();
  if (/^(smallint|integer|bigint|numeric|decimal|real|double precision|int64|float64|bignumeric)/.test(name)) return 'number';
  if (/^(date|timestamp|datetime)/.test(name)) return 'date';
  if (/^(boolean|bool)$/.test(name)) return 'boolean';
  return 'text';
}

const operatorsByKind: Readonly<Record<ColumnKind, readonly (readonly [string, string])[]>> = {
  text: [
    ['equals', 'is'],
    ['notEquals', 'is not'],
    ['contains', 'contains'],
    ['isEmpty', 'is empty'],
    ['isNotEmpty', 'is not empty'],
  ],
  number: [
    ['equals', 'equals'],
    ['notEquals', 'does not equal'],
    ['greaterThan', 'is greater than'],
    ['lessThan', 'is less than'],
    ['isEmpty', 'is empty'],
    ['isNotEmpty', 'is not empty'],
  ],
  date: [
    ['inLastDays', 'is within the last … days'],
    ['dayAndMonthIsToday', 'has today’s day and month'],
    ['greaterThan', 'is after'],
    ['lessThan', 'is before'],
    ['isEmpty', 'is empty'],
    ['isNotEmpty', 'is not empty'],
  ],
  boolean: [
    ['equals', 'is'],
    ['isEmpty', 'is empty'],
    ['isNotEmpty', 'is not empty'],
  ],
};
const withoutValue = new Set(['isEmpty', 'isNotEmpty', 'dayAndMonthIsToday']);

export function SegmentsScreen() {
  const segments = useLoad(() => call<Segment[]>('GET', '/api/v1/groups'));
  const [shown, setShown] = useState<number | undefined>();
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | undefined>();
  return (
    <section aria-labelledby="segments-title">
      <h1 id="segments-title">Segments</h1>
      <p class="lead">A segment selects contacts by the data in your own database: each condition is on a column of a data source.</p>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <NewSegment
        onSaved={(segment) => {
          setMessage({ kind: 'success', text: `The segment “${segment.name}” was saved.` });
          setShown(segment.id);
          segments.reload();
        }}
      />
      <h2>Your segments</h2>
      <LoadState loaded={segments} what="segments">
        {(list) =>
          list.length === 0 ? (
            <p class="empty">
              No segment yet. Build a condition above and choose <strong>Save and count</strong>.
            </p>
          ) : (
            <ul>
              {list.map((segment) => (
                <li key={segment.id}>
                  <strong>{segment.name}</strong>{' '}
                  <button
                    type="button"
                    class="secondary"
                    aria-expanded={shown === segment.id}
                    aria-label={`Members of ${segment.name}`}
                    onClick={() => setShown(shown === segment.id ? undefined : segment.id)}
                  >
                    Members
                  </button>{' '}
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Delete ${segment.name}`}
                    onClick={() => {
                      if (!confirmed(`Delete the segment “${segment.name}”?`)) return;
                      call('DELETE', `/api/v1/group/${segment.id}`)
                        .then(
                          () => setMessage({ kind: 'success', text: `The segment “${segment.name}” was deleted.` }),
                          (error: unknown) => setMessage({ kind: 'error', text: problemOf(error) }),
                        )
                        .finally(segments.reload);
                    }}
                  >
                    Delete
                  </button>
                  {shown === segment.id && <Members key={segment.id} segment={segment} />}
                </li>
              ))}
            </ul>
          )
        }
      </LoadState>
    </section>
  );
}

function Members(props: { segment: Segment }) {
  const members = useLoad(async () => {
    const { body, headers } = await callWithHeaders<Contact[]>('GET', `/api/v1/group/${props.segment.id}/contacts?maxrows=10`);
    return { sample: body, total: Number(headers.get('TotalCount') ?? body.length) };
  }, [props.segment.id]);
  return (
    <LoadState loaded={members} what="members">
      {({ sample, total }) => (
        <div role="region" aria-label={`Members of ${props.segment.name}`}>
          <p>
            <strong>{total}</strong> {total === 1 ? 'contact' : 'contacts'} in this segment
            {total > sample.length ? `; the first ${sample.length}:` : total ? ':' : '.'}
          </p>
          {sample.length > 0 && (
            <ul>
              {sample.map((contact) => (
                <li key={contact.id}>{contactLabel(contact)}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </LoadState>
  );
}

function NewSegment(props: { onSaved: (segment: Segment) => void }) {
  const sources = useLoad(() => Promise.all([listSources(), listConnectors()]));
  const [name, setName] = useState('');
  const [sourceId, setSourceId] = useState('');
  const [column, setColumn] = useState('');
  const [operator, setOperator] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>();
  const [count, setCount] = useState<{ busy: boolean; count?: number }>({ busy: false });
  const source: Source | undefined = sources.data?.[0].find((candidate) => String(candidate.id) === sourceId);
  const columns = useLoad(
    () =>
      source
        ? call<{ columns: Column[] }>(
            'GET',
            `/api/v1/connectors/${source.connectorId}/datasets/${encodeURIComponent(source.dataset)}/tables/${encodeURIComponent(source.table)}/columns`,
          ).then((answer) => answer.columns)
        : Promise.resolve([]),
    [sourceId],
  );
  const chosen = columns.data?.find((candidate) => candidate.name === column);
  const kind = chosen ? kindOf(chosen.type) : 'text';
  const operators = operatorsByKind[kind];

  const condition = () => {
    const typed = kind === 'number' || operator === 'inLastDays' ? Number(value) : kind === 'boolean' ? value === 'true' : value;
    return { source: Number(sourceId), column, operator, ...(withoutValue.has(operator) ? {} : { value: typed }) };
  };
  // The count-only route: the number of members, before anything is saved and without their rows.
  const countMembers = async () => {
    setError(undefined);
    setCount({ busy: true });
    try {
      setCount({ busy: false, count: (await call<{ count: number }>('POST', '/api/v1/groups/count', { conditions: [condition()] })).count });
    } catch (failure) {
      setCount({ busy: false });
      setError(failure);
    }
  };
  const save = async () => {
    setError(undefined);
    try {
      props.onSaved(await call<Segment>('POST', '/api/v1/groups', { name, conditions: [condition()] }));
      setName('');
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <form
      noValidate
      aria-labelledby="new-segment-title"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <h2 id="new-segment-title">New segment</h2>
      {error !== undefined && <Notice kind="error">{problemOf(error)}</Notice>}
      <LoadState loaded={sources} what="data sources">
        {([list]) =>
          list.length === 0 ? (
            <p class="empty">
              Segments on your own data need a data source. Add one on the <a href="#/sources">Data sources</a> screen first.
            </p>
          ) : (
            <>
              <Field
                label="Segment name"
                value={name}
                onInput={setName}
                error={error instanceof ApiError ? error.fieldMessage('name') : undefined}
                required
              />
              <Select
                label="Data source"
                value={sourceId}
                onChange={(next) => {
                  setSourceId(next);
                  setColumn('');
                  setOperator('');
                }}
                options={[['', 'Choose a data source'], ...list.map((item) => [String(item.id), `${item.name} (ID ${item.id})`] as const)]}
              />
              {source && (
                <LoadState loaded={columns} what="columns">
                  {(columnList) => (
                    <Select
                      label="Column"
                      value={column}
                      onChange={(next) => {
                        setColumn(next);
                        const nextKind = kindOf(columnList.find((candidate) => candidate.name === next)?.type ?? 'text');
                        setOperator(operatorsByKind[nextKind][0]![0]);
                        setValue('');
                      }}
                      options={[['', 'Choose a column'], ...columnList.map((item) => [item.name, `${item.name} (${item.type})`] as const)]}
                    />
                  )}
                </LoadState>
              )}
              {chosen && (
                <>
                  <Select label="Condition" value={operator} onChange={setOperator} options={operators} />
                  {!withoutValue.has(operator) &&
                    (kind === 'boolean' ? (
                      <Select
                        label="Value"
                        value={value || 'true'}
                        onChange={setValue}
                        options={[
                          ['true', 'yes'],
                          ['false', 'no'],
                        ]}
                      />
                    ) : (
                      <Field
                        label={operator === 'inLastDays' ? 'Days' : 'Value'}
                        type={kind === 'number' || operator === 'inLastDays' ? 'number' : 'text'}
                        value={value}
                        onInput={setValue}
                        {...(kind === 'date' && operator !== 'inLastDays' ? { hint: 'A date as YYYY-MM-DD.' } : {})}
                      />
                    ))}
                </>
              )}
              <div class="actions">
                <button type="button" class="secondary" disabled={!chosen || count.busy} onClick={() => void countMembers()}>
                  Count members
                </button>
                <button type="submit" disabled={!chosen}>
                  Save and count
                </button>
              </div>
              <p role="status">
                {count.busy
                  ? 'Counting…'
                  : count.count !== undefined && `${count.count} ${count.count === 1 ? 'contact matches' : 'contacts match'} this condition now.`}
              </p>
            </>
          )
        }
      </LoadState>
    </form>
  );
}
