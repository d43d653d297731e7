// How many refunds wait for this approver (not counting their own requests, which they may
// not approve): polled, so that a request made in another console or from the command line
// shows up without a reload, and re-read at once when this console hears of a refund change.
import { useCallback, useEffect, useRef, useState } from 'react';
import { onEvent } from '../api';
import * as commands from '../commands';
import type { RefundRecord } from '../types';

/** How often the queue is re-read. */
export const APPROVAL_POLL_MS = 15_000;
const QUEUE_LIMIT = 500;

/**
 * The refunds awaiting `username`'s approval (null until first read, or when `enabled` is
 * false), and `onNew(count)` when more arrive than were there before.
 */
export function useApprovalQueue(
  enabled: boolean,
  username: string | null,
  onNew?: (added: RefundRecord[]) => void,
): RefundRecord[] | null {
  const [queue, setQueue] = useState<RefundRecord[] | null>(null);
  const known = useRef<Set<number> | null>(null);
  const onNewRef = useRef(onNew);
  onNewRef.current = onNew;

  const read = useCallback(async () => {
    try {
      const all = await commands.refunds(['awaiting_approval'], QUEUE_LIMIT);
      const mine = all.filter((r) => r.requested_by !== username);
      // The first read is what was there; later reads announce what is new.
      if (known.current) {
        const added = mine.filter((r) => !known.current?.has(r.id));
        if (added.length > 0) onNewRef.current?.(added);
      }
      known.current = new Set(mine.map((r) => r.id));
      setQueue(mine);
    } catch {
      // A failed poll keeps the last count; the Approvals page shows errors itself.
    }
  }, [username]);

  useEffect(() => {
    if (!enabled) {
      known.current = null;
      setQueue(null);
      return;
    }
    void read();
    const timer = setInterval(() => void read(), APPROVAL_POLL_MS);
    let unlisten: (() => void) | null = null;
    let alive = true;
    void onEvent<RefundRecord>('refund-updated', () => void read()).then((u) => {
      if (alive) unlisten = u;
      else u();
    });
    return () => {
      alive = false;
      clearInterval(timer);
      unlisten?.();
    };
  }, [enabled, read]);

  return queue;
}
