/**
 * pageSignals() with web-vitals scripted as version 6 behaves: LCP, FCP and
 * TTFB reported once; CLS and INP reported again with the same id and an
 * updated value each time the page is hidden. One page view must give one
 * sample per vital, with the latest value, to the sinks and the histograms,
 * and the held values must reach the sinks before the scope's pagehide flush.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricType } from 'web-vitals';
import { createInstruments } from '../src/metrics/instruments.ts';
import { MetricsRecorder } from '../src/metrics/recorder.ts';
import { SocketScope } from '../src/scope.ts';
import { pageSignals } from '../src/vitals/page-signals.ts';

const reporters = vi.hoisted(() => ({}) as Record<string, (metric: unknown) => void>);
vi.mock('web-vitals', () => {
  const on = (name: string) => (callback: (metric: unknown) => void) => void (reporters[name] = callback);
  return { onLCP: on('LCP'), onINP: on('INP'), onCLS: on('CLS'), onFCP: on('FCP'), onTTFB: on('TTFB') };
});

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

let page: EventTarget;
let doc: EventTarget & { readyState: string; visibilityState: string };

beforeEach(() => {
  page = new EventTarget();
  doc = Object.assign(new EventTarget(), { readyState: 'loading', visibilityState: 'visible' });
  vi.stubGlobal('addEventListener', page.addEventListener.bind(page));
  vi.stubGlobal('removeEventListener', page.removeEventListener.bind(page));
  vi.stubGlobal('document', doc);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

/** web-vitals hands the same metric object to every report of one id, updated. */
function metric(name: MetricType['name'], id: string, value: number, rating: MetricType['rating']) {
  return { name, id, value, rating, delta: value, entries: [], navigationType: 'navigate' } as unknown as MetricType;
}

function report(m: MetricType, value?: number, rating?: MetricType['rating']): void {
  if (value !== undefined) Object.assign(m, { delta: value - m.value, value, rating });
  reporters[m.name]!(m);
}

/** The page turns hidden (web-vitals, listening on window in the capture phase, reports first: call report() before). */
function hide(stayHidden = false): void {
  doc.visibilityState = 'hidden';
  doc.dispatchEvent(new Event('visibilitychange'));
  if (!stayHidden) doc.visibilityState = 'visible';
}

const pagehide = () => page.dispatchEvent(new Event('pagehide'));

function setup() {
  const log: unknown[][] = [];
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const scope = new SocketScope({
    storage: undefined,
    plugins: [
      pageSignals(),
      (s) => new MetricsRecorder(createInstruments(provider.getMeter('test')), s),
      () => ({ vital: (...args) => void log.push(['vital', ...args]), flush: (final) => void log.push(['flush', final]) }),
    ],
  });
  /** Samples per vital histogram, and their sum. */
  const histograms = async () => {
    const { resourceMetrics } = await reader.collect();
    const result: Record<string, { count: number; sum: number }> = {};
    for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
      if (!m.descriptor.name.startsWith('browser.web_vital.')) continue;
      const points = m.dataPoints as Array<{ value: { count: number; sum: number } }>;
      result[m.descriptor.name.slice('browser.web_vital.'.length)] = {
        count: points.reduce((n, p) => n + p.value.count, 0),
        sum: points.reduce((n, p) => n + p.value.sum, 0),
      };
    }
    return result;
  };
  return { log, scope, provider, histograms };
}

describe('pageSignals() and Core Web Vitals', () => {
  it('records each vital of a page view once: CLS and INP with their latest value as a navigation ends it, before the flush', async () => {
    const { log, histograms, provider } = setup();
    report(metric('TTFB', 'v6-ttfb', 80, 'good'));
    report(metric('FCP', 'v6-fcp', 300, 'good'));
    const lcp = metric('LCP', 'v6-lcp', 900, 'good');
    report(lcp);
    report(lcp); // a repeated report of a final metric changes nothing
    // The user switches to another tab and back: web-vitals reports INP and CLS as the page is hidden.
    const inp = metric('INP', 'v6-inp', 120, 'good');
    const cls = metric('CLS', 'v6-cls', 0.02, 'good');
    report(inp);
    report(cls);
    hide();
    // Then navigates away. Chromium fires pagehide while the page is still visible, then
    // visibilitychange, where web-vitals reports INP and CLS again: same ids, larger values.
    pagehide();
    report(inp, 350, 'needs-improvement');
    report(cls, 0.3, 'poor');
    hide();
    // Nothing after that adds a sample for these ids.
    report(inp, 600, 'poor');
    hide();
    pagehide();

    expect(log).toEqual([
      ['vital', 'ttfb', 80, 'good'],
      ['vital', 'fcp', 300, 'good'],
      ['vital', 'lcp', 900, 'good'],
      ['flush', true], // the tab switch
      ['flush', true], // pagehide
      ['vital', 'inp', 350, 'needs-improvement'],
      ['vital', 'cls', 0.3, 'poor'],
      ['flush', true], // the visibilitychange that follows pagehide
      ['flush', true],
      ['flush', true],
    ]);
    expect(await histograms()).toEqual({
      lcp: { count: 1, sum: 0.9 },
      fcp: { count: 1, sum: 0.3 },
      ttfb: { count: 1, sum: 0.08 },
      inp: { count: 1, sum: 0.35 },
      cls: { count: 1, sum: 0.3 },
    });
    await provider.shutdown();
  });

  it('records CLS and INP on pagehide when the page was already hidden (a background tab closed)', () => {
    const { log } = setup();
    report(metric('INP', 'v6-inp', 200, 'good'));
    hide(true);
    pagehide();
    expect(log).toEqual([
      ['flush', true],
      ['vital', 'inp', 200, 'good'],
      ['flush', true],
    ]);
  });

  it('records the new ids of a page restored from the back/forward cache when it ends again', () => {
    const { log } = setup();
    report(metric('CLS', 'v6-cls-1', 0.1, 'good'));
    pagehide();
    hide();
    report(metric('CLS', 'v6-cls-2', 0.2, 'needs-improvement'));
    pagehide();
    hide();
    expect(log.filter(([event]) => event === 'vital')).toEqual([
      ['vital', 'cls', 0.1, 'good'],
      ['vital', 'cls', 0.2, 'needs-improvement'],
    ]);
  });

  it('stops listening when the scope shuts down', async () => {
    const { log, scope } = setup();
    report(metric('INP', 'v6-inp', 200, 'good'));
    await scope.shutdown();
    hide(true);
    pagehide();
    expect(log.filter(([event]) => event === 'vital')).toEqual([]);
  });
});
