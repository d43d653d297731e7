// The loading / error state around one backend call, in one place:
//
//   const detail = useCommand((no: string) => orderDetail(no, false));
//   const r = await detail.run('ORDER-1');
//   if (r.status === 'ok') setDetail(r.value);
//   …
//   <Button loading={detail.loading} />  <ErrorAlert error={detail.error} />
//
// Only the latest call counts: when run() is called again before an earlier call settled, the
// earlier one resolves as 'stale' and leaves `loading` and `error` alone.
import { useCallback, useLayoutEffect, useRef, useState } from 'react';
import { toAppError } from '../api';
import type { AppError } from '../types';

export type CommandResult<T> =
  | { status: 'ok'; value: T }
  /** The call failed; `error` is what `error` now holds (unless onError handled it). */
  | { status: 'failed'; error: AppError }
  /** A later run() started before this call settled: its outcome is ignored. */
  | { status: 'stale' };

export interface CommandOptions {
  /**
   * Sees a failure of the latest call first. Return true when it handled the failure itself
   * (a notification, another screen): `error` then stays null.
   */
  onError?: (error: AppError) => boolean | void;
  /**
   * Clear `error` when a call starts (default). With false the last error stays shown while
   * the next call runs, until that call succeeds or fails in its turn.
   */
  clearErrorOnRun?: boolean;
}

export interface Command<A extends unknown[], T> {
  /** Runs the call; never rejects (the outcome says what happened). */
  run: (...args: A) => Promise<CommandResult<T>>;
  /** True while the latest call runs. */
  loading: boolean;
  /** What the latest call failed with, as an AppError (errors of an unknown kind keep their message). */
  error: AppError | null;
  /** Sets or clears the error by hand (a dialog opened again, a form check). */
  setError: (error: unknown) => void;
}

export function useCommand<A extends unknown[], T>(
  fn: (...args: A) => Promise<T>,
  options: CommandOptions = {},
): Command<A, T> {
  const [loading, setLoading] = useState(false);
  const [error, setErrorState] = useState<AppError | null>(null);
  const latest = useRef(0);
  // The newest fn and options (before any effect runs), so that run() keeps one identity.
  const fnRef = useRef(fn);
  const optionsRef = useRef(options);
  useLayoutEffect(() => {
    fnRef.current = fn;
    optionsRef.current = options;
  });

  const run = useCallback(async (...args: A): Promise<CommandResult<T>> => {
    const id = ++latest.current;
    const { clearErrorOnRun = true } = optionsRef.current;
    setLoading(true);
    if (clearErrorOnRun) setErrorState(null);
    try {
      const value = await fnRef.current(...args);
      if (id !== latest.current) return { status: 'stale' };
      setErrorState(null);
      return { status: 'ok', value };
    } catch (e) {
      if (id !== latest.current) return { status: 'stale' };
      const err = toAppError(e);
      const handled = optionsRef.current.onError?.(err) === true;
      setErrorState(handled ? null : err);
      return { status: 'failed', error: err };
    } finally {
      if (id === latest.current) setLoading(false);
    }
  }, []);

  const setError = useCallback((e: unknown) => {
    setErrorState(e === null || e === undefined ? null : toAppError(e));
  }, []);

  return { run, loading, error, setError };
}
