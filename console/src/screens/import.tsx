import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { ListTable, SubmitForm, useSubmission } from '../forms';
import { LoadState, Notice, Select, sentence, useLoad } from '../ui';

interface ImportStatus {
  readonly asyncSessionId: string;
  readonly status: 'QUEUED' | 'RUNNING' | 'FINISHED' | 'FAILED';
  readonly total: number;
  readonly processed: number;
  readonly created: number;
  readonly updated: number;
  readonly failed: number;
  readonly errors: readonly { index: number; code: string; message: string }[];
}

/** POST /api/v1/contacts/upload's `dedupeOn`, in words. */
const dedupeKeys = [
  ['email', 'Email'],
  ['sms', 'Phone (SMS)'],
  ['email_or_sms', 'Email, or phone when there is no email'],
  ['externalCustomerId', 'External customer ID'],
  ['id', 'Contact ID'],
] as const;

const stillRunning = (status: ImportStatus['status']) => status === 'QUEUED' || status === 'RUNNING';

export function ImportScreen() {
  const [file, setFile] = useState<File | undefined>();
  const [dedupeOn, setDedupeOn] = useState<string>('email');
  const [restoreDeleted, setRestoreDeleted] = useState(false);
  const [fileProblem, setFileProblem] = useState<string | undefined>();
  const [sessionId, setSessionId] = useState<string | undefined>();
  const submission = useSubmission(async () => {
    setFileProblem(undefined);
    if (!file) {
      setFileProblem('Choose a CSV file to import.');
      return;
    }
    const csv = await file.text();
    const started = await call<{ asyncSessionId: string }>('POST', '/api/v1/contacts/upload', { dedupeOn, csv, restoreDeleted });
    setSessionId(started.asyncSessionId);
  });
  const csvError = fileProblem ?? submission.fieldError('csv');

  return (
    <section aria-labelledby="import-title">
      <h1 id="import-title">Import contacts</h1>
      <p class="lead">
        Add or update contacts from a CSV file whose first row names the columns (Email, Sms, First name, Last name, External customer ID, …). The
        import runs in the background; this screen follows it until it is done.
      </p>
      <SubmitForm submission={submission} label="Import contacts from a file">
        <div class="field">
          <label for="import-file">CSV file</label>
          <input
            id="import-file"
            type="file"
            accept=".csv,text/csv,text/plain"
            aria-invalid={csvError ? 'true' : undefined}
            aria-describedby={csvError ? 'import-file-error' : undefined}
            onChange={(event) => setFile((event.currentTarget as HTMLInputElement).files?.[0])}
          />
          {csvError && (
            <p class="field-error" id="import-file-error">
              {csvError}
            </p>
          )}
        </div>
        <Select
          label="Match existing contacts by"
          value={dedupeOn}
          onChange={setDedupeOn}
          options={dedupeKeys}
          error={submission.fieldError('dedupeOn')}
        />
        <label class="checkbox">
          <input
            type="checkbox"
            checked={restoreDeleted}
            onChange={(event) => setRestoreDeleted((event.currentTarget as HTMLInputElement).checked)}
          />
          Restore contacts that were deleted
        </label>
        <div class="actions">
          <button type="submit" disabled={submission.busy}>
            {submission.busy ? 'Uploading…' : 'Import'}
          </button>
        </div>
      </SubmitForm>
      {sessionId ? (
        <ImportProgress key={sessionId} sessionId={sessionId} />
      ) : (
        <p class="empty">No import started yet. Choose a file and Import; its progress and any refused rows appear here.</p>
      )}
    </section>
  );
}

function ImportProgress(props: { sessionId: string }) {
  const status = useLoad(() => call<ImportStatus>('GET', `/api/v1/importstatus/${props.sessionId}`), [props.sessionId]);
  useEffect(() => {
    // Long work shows its progress: while the import runs, ask again every second.
    if (!status.data || !stillRunning(status.data.status)) return undefined;
    const timer = setTimeout(status.reload, 1000);
    return () => clearTimeout(timer);
  }, [status.data]);

  return (
    <LoadState loaded={status} what="the import">
      {(current) => (
        <div role="region" aria-label="Import progress">
          <h2>Import progress</h2>
          <progress
            max={Math.max(current.total, 1)}
            value={current.status === 'FINISHED' ? Math.max(current.total, 1) : current.processed}
            aria-label="Contacts imported"
          />
          <p role="status">{summary(current)}</p>
          {current.errors.length > 0 && (
            <>
              <h3>{current.status === 'FAILED' ? 'Why it failed' : 'Rows that were not imported'}</h3>
              {current.status !== 'FAILED' && <p class="hint">Rows are counted from the first one after the header.</p>}
              <ListTable caption="Rows that were not imported" columns={['Row', 'Problem']}>
                {current.errors.map((error) => (
                  <tr key={`${error.index}-${error.code}`}>
                    <td>{error.index === 0 ? 'The file' : `Row ${error.index}`}</td>
                    <td>
                      {error.index === 0 ? sentence(error.message) : error.message} <span class="hint">({error.code})</span>
                    </td>
                  </tr>
                ))}
              </ListTable>
            </>
          )}
          {current.status === 'FAILED' && <Notice kind="error">The import failed; nothing more will be imported from this file.</Notice>}
        </div>
      )}
    </LoadState>
  );
}

function summary(current: ImportStatus): string {
  const counts = `${current.created} created, ${current.updated} updated, ${current.failed} not imported`;
  switch (current.status) {
    case 'QUEUED':
      return 'Waiting to start…';
    case 'RUNNING':
      return `Importing: ${current.processed} of ${current.total} contacts processed (${counts}).`;
    case 'FINISHED':
      return `Finished: ${counts}.`;
    case 'FAILED':
      return `Failed after ${current.processed} of ${current.total} contacts (${counts}).`;
  }
}
