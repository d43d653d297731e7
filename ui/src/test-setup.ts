import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

afterEach(() => {
  cleanup();
});

// findBy*/waitFor give up after 1 s by default: on a busy 2-core CI machine antd's first
// render of a large page can take longer (a cold CI run saw two such timeouts).
configure({ asyncUtilTimeout: 5000 });

// jsdom lacks a few browser APIs antd and echarts touch.
if (!window.matchMedia) {
  Object.defineProperty(window, 'matchMedia', {
    writable: true,
    value: (query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }),
  });
}
if (!(globalThis as { ResizeObserver?: unknown }).ResizeObserver) {
  (globalThis as { ResizeObserver?: unknown }).ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}
// antd's scroll helpers and the virtualizer.
if (!window.scrollTo) {
  window.scrollTo = () => {};
}
// window.getComputedStyle with pseudo elements is unsupported in jsdom and noisy.
const gcs = window.getComputedStyle.bind(window);
window.getComputedStyle = (elt: Element) => gcs(elt);
