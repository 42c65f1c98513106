import type { ComponentChildren } from 'preact';
import { useId, useState } from 'preact/hooks';
import { ApiError } from './api';
import { Notice, problemOf } from './ui';

export interface Submission {
  readonly busy: boolean;
  /** The last failure: a notice for the form and, through `fieldError`, messages next to the fields it names. */
  readonly error: unknown;
  readonly fieldError: (field: string) => string | undefined;
  readonly submit: () => Promise<void>;
}

/**
 * A form's submit cycle, which every screen's form repeats: busy while the call runs (so a
 * second click does not send twice), the previous error cleared, the server's error kept.
 */
export function useSubmission(work: () => Promise<void>): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (field: string) => (error instanceof ApiError ? error.fieldMessage(field) : undefined);
  return { busy, error, fieldError, submit };
}

/**
 * The form around a submission: the browser's own validation off (the server's messages are
 * shown instead, next to their fields), Enter submits, and a failure the fields do not name is
 * announced at the top.
 */
export function SubmitForm(props: {
  readonly submission: Submission;
  readonly label?: string;
  readonly labelledBy?: string;
  /** False when the form shows every failure at a field itself. */
  readonly notice?: boolean;
  readonly children: ComponentChildren;
}) {
  const { submission } = props;
  return (
    <form
      noValidate
      aria-label={props.label}
      aria-labelledby={props.labelledBy}
      onSubmit={(event) => {
        event.preventDefault();
        void submission.submit();
      }}
    >
      {submission.error !== undefined && props.notice !== false && <Notice kind="error">{problemOf(submission.error)}</Notice>}
      {props.children}
    </form>
  );
}

/** A list as a table: a caption for screen readers, column headers, and a last column of row actions when asked. */
export function ListTable(props: {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly withActions?: boolean;
  readonly children: ComponentChildren;
}) {
  return (
    <table>
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          {props.columns.map((column) => (
            <th scope="col" key={column}>
              {column}
            </th>
          ))}
          {props.withActions && (
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** Boxes to tick, several at once, with the server's error for the whole group under them. */
export function CheckboxGroup(props: {
  readonly legend: string;
  readonly options: readonly (readonly [value: string, label: string])[];
  readonly checked: readonly string[];
  readonly onChange: (checked: string[]) => void;
  readonly error?: string | undefined;
}) {
  const errorId = useId();
  return (
    <fieldset aria-describedby={props.error ? errorId : undefined}>
      <legend>{props.legend}</legend>
      {props.options.map(([value, label]) => (
        <label class="checkbox" key={value}>
          <input
            type="checkbox"
            checked={props.checked.includes(value)}
            onChange={(event) => {
              const ticked = (event.currentTarget as HTMLInputElement).checked;
              props.onChange(ticked ? [...props.checked, value] : props.checked.filter((item) => item !== value));
            }}
          />
          {label}
        </label>
      ))}
      {props.error && (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      )}
    </fieldset>
  );
}

/** The submit button, busy while the call runs, and Cancel when the form can be left. */
export function FormActions(props: {
  readonly submission: Submission;
  readonly label: string;
  readonly busyLabel: string;
  readonly onCancel?: () => void;
}) {
  return (
    <div class="actions">
      <button type="submit" disabled={props.submission.busy}>
        {props.submission.busy ? props.busyLabel : props.label}
      </button>
      {props.onCancel && (
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}

/** A button in a list's row; its accessible name says which row it acts on ("Delete Shop database"). */
export function RowButton(props: {
  readonly action: string;
  readonly target: string;
  readonly kind?: 'secondary' | 'danger';
  readonly disabled?: boolean;
  readonly onClick: () => void;
}) {
  return (
    <button type="button" class={props.kind} aria-label={`${props.action} ${props.target}`} disabled={props.disabled} onClick={props.onClick}>
      {props.action}
    </button>
  );
}
