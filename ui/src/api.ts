// The only place that talks to the backend: Tauri commands (invoke) and events (listen).
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AppError, ErrorCode } from './types';
import { ERROR_CODES, ERROR_KINDS } from './types';

export type { AppError, ErrorCode, ErrorKind } from './types';

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { kind?: unknown }).kind === 'string' &&
    (ERROR_KINDS as string[]).includes((e as { kind: string }).kind) &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/** The error's code when it is one this UI knows, else its kind (an error made without one). */
function codeOf(e: AppError): ErrorCode {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (ERROR_CODES as string[]).includes(code) ? (code as ErrorCode) : e.kind;
}

/** Turns whatever a command rejected with into an AppError. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return { kind: e.kind, code: codeOf(e), message: e.message };
  if (typeof e === 'string') {
    try {
      const parsed: unknown = JSON.parse(e);
      if (isAppError(parsed)) return { kind: parsed.kind, code: codeOf(parsed), message: parsed.message };
    } catch {
      // a plain message
    }
    return { kind: 'io', code: 'io', message: e };
  }
  // An Error, or an error object of a kind this UI does not know yet: keep its message.
  const message = typeof e === 'object' && e !== null ? (e as { message?: unknown }).message : undefined;
  if (typeof message === 'string') return { kind: 'io', code: 'io', message };
  return { kind: 'io', code: 'io', message: String(e) };
}

type UnauthenticatedHandler = () => void;
let onUnauthenticated: UnauthenticatedHandler | null = null;

/** session.tsx registers this: any `unauthenticated` rejection returns to the login screen. */
export function setUnauthenticatedHandler(handler: UnauthenticatedHandler | null): void {
  onUnauthenticated = handler;
}

/** Calls a Tauri command. Rejects with an AppError. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    const err = toAppError(e);
    if (err.kind === 'unauthenticated' && cmd !== 'login' && onUnauthenticated) {
      onUnauthenticated();
    }
    throw err;
  }
}

export type EventName = 'run-event' | 'refund-updated';

/** Listens to a global backend event; resolves to the unlisten function. */
export async function onEvent<T>(
  name: EventName,
  handler: (payload: T) => void,
): Promise<() => void> {
  try {
    const unlisten = await listen<T>(name, (e) => handler(e.payload));
    return () => {
      // Unlistening must never break an unmount (window closing, tests tearing down).
      try {
        void Promise.resolve(unlisten()).catch(() => {});
      } catch {
        // ignore
      }
    };
  } catch {
    // Not running inside Tauri (plain browser, some tests): no events.
    return () => {};
  }
}
