import { describe, expect, it } from 'vitest';
import { toAppError } from './api';

describe('toAppError', () => {
  it('keeps a known kind and its message', () => {
    expect(toAppError({ kind: 'denied', message: 'support lacks the permission user.manage' })).toEqual({
      kind: 'denied',
      code: 'denied',
      message: 'support lacks the permission user.manage',
    });
  });

  it('keeps the code the backend gave (the kind stays what the UI words)', () => {
    expect(toAppError({ kind: 'bad_input', code: 'refund_exceeds_refundable', message: 'too much' })).toEqual({
      kind: 'bad_input',
      code: 'refund_exceeds_refundable',
      message: 'too much',
    });
    expect(toAppError({ kind: 'provider', code: 'provider_signature', message: 'bad signature' }).code).toBe(
      'provider_signature',
    );
    // A code this UI does not know yet: its kind stands in.
    expect(toAppError({ kind: 'provider', code: 'provider_brand_new', message: 'x' }).code).toBe('provider');
  });

  it('parses the JSON text a command may reject with', () => {
    expect(toAppError('{"kind":"busy","code":"busy","message":"a run is going"}')).toEqual({
      kind: 'busy',
      code: 'busy',
      message: 'a run is going',
    });
    expect(toAppError('plain words')).toEqual({ kind: 'io', code: 'io', message: 'plain words' });
  });

  it('keeps the message of a kind it does not know, never "[object Object]"', () => {
    expect(toAppError({ kind: 'brand_new_kind', message: 'refund 11 was decided meanwhile' })).toEqual({
      kind: 'io',
      code: 'io',
      message: 'refund 11 was decided meanwhile',
    });
    expect(toAppError(new Error('socket closed'))).toEqual({ kind: 'io', code: 'io', message: 'socket closed' });
    expect(toAppError(42)).toEqual({ kind: 'io', code: 'io', message: '42' });
  });
});
