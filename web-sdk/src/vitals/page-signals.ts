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
    const interaction = (event: Event): void => {
      if (!(event as KeyboardEvent).repeat) scope.emit('interaction');
    };
    const error = (event: Event): void => {
      if (event instanceof ErrorEvent || event.type === 'unhandledrejection') scope.emit('pageError');
    };
    addEventListener('pointerdown', interaction, options);
    addEventListener('keydown', interaction, options);
    addEventListener('error', error);
    addEventListener('unhandledrejection', error);
    return {
      shutdown() {
        // web-vitals' own observers cannot be removed; they report to a scope that no longer has sinks.
        removeEventListener('pointerdown', interaction, options);
        removeEventListener('keydown', interaction, options);
        removeEventListener('error', error);
        removeEventListener('unhandledrejection', error);
      },
    };
  };
}
