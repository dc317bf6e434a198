/**
 * Page signals for the UX correlation: Core Web Vitals (web-vitals), page
 * load time (Navigation Timing), user interactions and uncaught errors.
 */
import { type MetricType, onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import type { ScopePlugin } from '../scope.ts';
import type { VitalName } from '../sink.ts';

export function pageSignals(): ScopePlugin {
  return (scope) => {
    const vital = (metric: MetricType): void => scope.emit('vital', metric.name.toLowerCase() as VitalName, metric.value, metric.rating);
    onLCP(vital);
    onINP(vital);
    onCLS(vital);
    onFCP(vital);
    onTTFB(vital);

    const pageLoad = (): void => {
      const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
      if (navigation && navigation.loadEventEnd > 0) scope.emit('vital', 'page_load', navigation.loadEventEnd - navigation.startTime);
    };
    // loadEventEnd is set once the load handlers have run, so measure a task later.
    if (document.readyState === 'complete') setTimeout(pageLoad);
    else addEventListener('load', () => setTimeout(pageLoad), { once: true });

    const options = { capture: true, passive: true };
    addEventListener('pointerdown', () => scope.emit('interaction'), options);
    addEventListener('keydown', (event) => event.repeat || scope.emit('interaction'), options);
    addEventListener('error', (event) => event instanceof ErrorEvent && scope.emit('pageError'));
    addEventListener('unhandledrejection', () => scope.emit('pageError'));
  };
}
