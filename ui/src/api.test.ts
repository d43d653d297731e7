import { describe, expect, it } from 'vitest';
import { toAppError } from './api';

describe('toAppError', () => {
  it('keeps a known kind and its message', () => {
    expect(toAppError({ kind: 'denied', message: 'support lacks the permission user.manage' })).toEqual({
      kind: 'denied',
      message: 'support lacks the permission user.manage',
    });
  });

  it('parses the JSON text a command may reject with', () => {
    expect(toAppError('{"kind":"busy","message":"a run is going"}')).toEqual({ kind: 'busy', message: 'a run is going' });
    expect(toAppError('plain words')).toEqual({ kind: 'io', message: 'plain words' });
  });

  it('keeps the message of a kind it does not know, never "[object Object]"', () => {
    expect(toAppError({ kind: 'brand_new_kind', message: 'refund 11 was decided meanwhile' })).toEqual({
      kind: 'io',
      message: 'refund 11 was decided meanwhile',
    });
    expect(toAppError(new Error('socket closed'))).toEqual({ kind: 'io', message: 'socket closed' });
    expect(toAppError(42)).toEqual({ kind: 'io', message: '42' });
  });
});
