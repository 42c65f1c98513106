import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useState } from 'preact/hooks';
import { ApiError } from './api';

interface FieldProps {
  readonly label: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
  readonly type?: 'text' | 'password' | 'email' | 'number' | 'url';
  readonly error?: string | undefined;
  readonly hint?: string;
  readonly required?: boolean;
  readonly autoComplete?: string;
}

/** A labelled input whose server-side error sits next to it and is announced with it. */
export function Field(props: FieldProps) {
  const id = useId();
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        required={props.required}
        autoComplete={props.autoComplete ?? 'off'}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
        onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
      />
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={`${id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

interface SelectProps {
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly options: readonly (readonly [value: string, label: string])[];
  readonly error?: string | undefined;
}

export function Select(props: SelectProps) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
        onChange={(event) => props.onChange((event.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      {props.error && (
        <p class="field-error" id={`${id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A message for the whole form or screen: errors interrupt (alert), the rest waits its turn (status). */
export function Notice(props: { kind: 'success' | 'warning' | 'error' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

/** What the user should read about a failed call; field errors are shown next to their fields instead. */
export function problemOf(error: unknown): string {
  if (error instanceof ApiError)
    return error.details.length && error.code === 'VALIDATION_FAILED' ? 'Some fields need your attention.' : sentence(error.message);
  return 'Something went wrong. Try again.';
}

export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capitalised = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  readonly reload: () => void;
}

/** Loads once on mount and again on `reload()`. */
export function useLoad<T>(load: () => Promise<T>, dependencies: readonly unknown[] = []): Loaded<T> {
  // Each answer remembers the inputs it was loaded for: with other inputs on screen it is stale,
  // and is not shown even for the one render before the new load starts. A reload (same inputs)
  // keeps it on screen meanwhile.
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; loadedFor: readonly unknown[] | undefined }>({
    data: undefined,
    error: undefined,
    loading: true,
    loadedFor: undefined,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => current && setState({ data, error: undefined, loading: false, loadedFor: dependencies }),
      (error: unknown) => current && setState({ data: undefined, error, loading: false, loadedFor: dependencies }),
    );
    return () => {
      current = false;
    };
  }, [round, ...dependencies]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  const fresh =
    state.loadedFor !== undefined &&
    state.loadedFor.length === dependencies.length &&
    state.loadedFor.every((value, index) => value === dependencies[index]);
  return fresh
    ? { data: state.data, error: state.error, loading: state.loading, reload }
    : { data: undefined, error: undefined, loading: true, reload };
}

export function LoadState<T>(props: { loaded: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (props.loaded.error) return <Notice kind="error">{problemOf(props.loaded.error)}</Notice>;
  if (props.loaded.data === undefined) return <p role="status">Loading {props.what}…</p>;
  return <>{props.children(props.loaded.data)}</>;
}

export function confirmed(question: string): boolean {
  return window.confirm(question);
}
