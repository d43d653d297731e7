import { describe, expect, it, vi } from 'vitest';
import { act, renderHook, screen } from '@testing-library/react';
import { ErrorAlert } from '../components/ErrorNotice';
import { renderWithSession } from '../test-utils';
import { useCommand } from './useCommand';
import type { CommandResult } from './useCommand';

/** A promise settled by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('useCommand', () => {
  it('is loading while the call runs, then gives its result', async () => {
    const d = deferred<number>();
    const fn = vi.fn((_a: string, _b: number) => d.promise);
    const { result } = renderHook(() => useCommand(fn));
    expect(result.current.loading).toBe(false);
    expect(result.current.error).toBeNull();

    let pending!: Promise<CommandResult<number>>;
    act(() => {
      pending = result.current.run('x', 2);
    });
    expect(fn).toHaveBeenCalledWith('x', 2);
    expect(result.current.loading).toBe(true);

    await act(async () => {
      d.resolve(42);
      await pending;
    });
    await expect(pending).resolves.toEqual({ status: 'ok', value: 42 });
    expect(result.current.loading).toBe(false);
    expect(result.current.error).toBeNull();
  });

  it('is loading, then holds the error as an AppError', async () => {
    const d = deferred<number>();
    const { result } = renderHook(() => useCommand(() => d.promise));
    let pending!: Promise<CommandResult<number>>;
    act(() => {
      pending = result.current.run();
    });
    expect(result.current.loading).toBe(true);
    await act(async () => {
      d.reject({ kind: 'denied', message: 'support lacks the permission key.manage' });
      await pending;
    });
    const failure = { kind: 'denied', code: 'denied', message: 'support lacks the permission key.manage' };
    await expect(pending).resolves.toEqual({ status: 'failed', error: failure });
    expect(result.current.loading).toBe(false);
    expect(result.current.error).toEqual(failure);
  });

  it('keeps the message of an error of a kind it does not know', async () => {
    const { result } = renderHook(() =>
      useCommand(() => Promise.reject({ kind: 'brand_new_kind', message: 'refund 11 was decided meanwhile' })),
    );
    await act(async () => {
      await result.current.run();
    });
    expect(result.current.error).toEqual({ kind: 'io', code: 'io', message: 'refund 11 was decided meanwhile' });
    // Rendered as before: the same box as for the raw rejection.
    renderWithSession(<ErrorAlert error={result.current.error} data-testid="from-hook" />);
    renderWithSession(<ErrorAlert error={{ kind: 'brand_new_kind', message: 'refund 11 was decided meanwhile' }} data-testid="raw" />);
    const fromHook = screen.getByTestId('from-hook');
    const raw = screen.getByTestId('raw');
    expect(fromHook).toHaveAttribute('data-kind', 'io');
    expect(fromHook.textContent).toContain('refund 11 was decided meanwhile');
    expect(fromHook.textContent).not.toContain('[object Object]');
    expect(fromHook.textContent).toBe(raw.textContent);
  });

  it('clears the error when the next call starts, and after a success', async () => {
    let fail = true;
    const { result } = renderHook(() =>
      useCommand(() => (fail ? Promise.reject({ kind: 'io', message: 'down' }) : Promise.resolve('up'))),
    );
    await act(async () => {
      await result.current.run();
    });
    expect(result.current.error).toEqual({ kind: 'io', code: 'io', message: 'down' });
    fail = false;
    const d = deferred<void>();
    const { result: slow } = renderHook(() => useCommand(() => d.promise));
    act(() => {
      slow.current.setError({ kind: 'busy', message: 'a run is going' });
    });
    expect(slow.current.error).toEqual({ kind: 'busy', code: 'busy', message: 'a run is going' });
    let pending!: Promise<unknown>;
    act(() => {
      pending = slow.current.run();
    });
    expect(slow.current.error).toBeNull();
    await act(async () => {
      d.resolve();
      await pending;
    });
    await act(async () => {
      await result.current.run();
    });
    expect(result.current.error).toBeNull();
  });

  it('with clearErrorOnRun false keeps the last error shown until the next call settles', async () => {
    const d = deferred<string>();
    let first = true;
    const { result } = renderHook(() =>
      useCommand(() => (first ? Promise.reject({ kind: 'io', message: 'down' }) : d.promise), { clearErrorOnRun: false }),
    );
    await act(async () => {
      await result.current.run();
    });
    first = false;
    let pending!: Promise<unknown>;
    act(() => {
      pending = result.current.run();
    });
    expect(result.current.loading).toBe(true);
    expect(result.current.error).toEqual({ kind: 'io', code: 'io', message: 'down' });
    await act(async () => {
      d.resolve('up');
      await pending;
    });
    expect(result.current.error).toBeNull();
  });

  it('lets onError handle a failure instead of holding it', async () => {
    const onError = vi.fn(() => true);
    const { result } = renderHook(() =>
      useCommand(() => Promise.reject({ kind: 'vault_locked', message: 'the vault is locked' }), { onError }),
    );
    let outcome: CommandResult<unknown> | undefined;
    await act(async () => {
      outcome = await result.current.run();
    });
    expect(onError).toHaveBeenCalledWith({ kind: 'vault_locked', code: 'vault_locked', message: 'the vault is locked' });
    expect(outcome).toEqual({ status: 'failed', error: { kind: 'vault_locked', code: 'vault_locked', message: 'the vault is locked' } });
    expect(result.current.error).toBeNull();
    expect(result.current.loading).toBe(false);
  });

  it('ignores a call overtaken by a later one, whichever settles first', async () => {
    const calls: ReturnType<typeof deferred<string>>[] = [];
    const onError = vi.fn();
    const { result } = renderHook(() =>
      useCommand(
        (_q: string) => {
          const d = deferred<string>();
          calls.push(d);
          return d.promise;
        },
        { onError },
      ),
    );
    let older!: Promise<CommandResult<string>>;
    let newer!: Promise<CommandResult<string>>;
    act(() => {
      older = result.current.run('a');
    });
    act(() => {
      newer = result.current.run('b');
    });

    // The newer call answers first; the older one fails later: neither its error nor the end of
    // its loading shows.
    await act(async () => {
      calls[1].resolve('B');
      await newer;
    });
    await expect(newer).resolves.toEqual({ status: 'ok', value: 'B' });
    expect(result.current.loading).toBe(false);
    await act(async () => {
      calls[0].reject({ kind: 'io', message: 'late' });
      await older;
    });
    await expect(older).resolves.toEqual({ status: 'stale' });
    expect(result.current.error).toBeNull();
    expect(onError).not.toHaveBeenCalled();

    // The other way round: the older call answers first, and loading lasts until the newer one.
    let third!: Promise<CommandResult<string>>;
    let fourth!: Promise<CommandResult<string>>;
    act(() => {
      third = result.current.run('c');
      fourth = result.current.run('d');
    });
    await act(async () => {
      calls[2].resolve('C');
      await third;
    });
    await expect(third).resolves.toEqual({ status: 'stale' });
    expect(result.current.loading).toBe(true);
    await act(async () => {
      calls[3].reject({ kind: 'io', message: 'down' });
      await fourth;
    });
    await expect(fourth).resolves.toEqual({ status: 'failed', error: { kind: 'io', code: 'io', message: 'down' } });
    expect(result.current.loading).toBe(false);
    expect(result.current.error).toEqual({ kind: 'io', code: 'io', message: 'down' });
  });

  it('keeps run() the same function across renders and calls the newest fn', async () => {
    const { result, rerender } = renderHook(({ n }) => useCommand(() => Promise.resolve(n)), {
      initialProps: { n: 1 },
    });
    const run = result.current.run;
    rerender({ n: 2 });
    expect(result.current.run).toBe(run);
    let outcome: CommandResult<number> | undefined;
    await act(async () => {
      outcome = await result.current.run();
    });
    expect(outcome).toEqual({ status: 'ok', value: 2 });
  });
});
