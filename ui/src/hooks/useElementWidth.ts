// An element's inner width, followed as it changes (the window resized, a pane opened).
import { useEffect, useState } from 'react';
import type { PointerEvent as ReactPointerEvent, RefObject } from 'react';

export function useElementWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(el.clientWidth);
    measure();
    if (typeof ResizeObserver === 'undefined') {
      window.addEventListener('resize', measure);
      return () => window.removeEventListener('resize', measure);
    }
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return width;
}

/**
 * A horizontal drag from a pointer-down: `onMove(dx)` while the pointer moves, `onEnd(dx)` once
 * it is released (dx in px from where it started).
 */
export function dragHorizontally(e: ReactPointerEvent, onMove: (dx: number) => void, onEnd: (dx: number) => void): void {
  e.preventDefault();
  e.stopPropagation();
  const startX = e.clientX;
  let dx = 0;
  const move = (ev: PointerEvent) => {
    dx = ev.clientX - startX;
    onMove(dx);
  };
  const up = () => {
    window.removeEventListener('pointermove', move);
    window.removeEventListener('pointerup', up);
    onEnd(dx);
  };
  window.addEventListener('pointermove', move);
  window.addEventListener('pointerup', up);
}
