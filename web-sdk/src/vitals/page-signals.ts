/**
 * Page signals for the UX correlation: Core Web Vitals (web-vitals), page
 * load time (Navigation Timing), user interactions and uncaught errors.
 *
 * One page view gives one sample per vital. web-vitals reports LCP, FCP and
 * TTFB once, final; CLS and INP it reports again (same metric id, updated
 * value) each time the page is hidden, because any hide may be the last. A
 * histogram sample cannot be taken back, so the latest CLS and INP of each id
 * are held and recorded once, when the page view ends (pagehide: the page is
 * unloaded or goes into the back/forward cache, where a restore starts new ids).
 */
import { type MetricType, onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import type { ScopePlugin } from '../scope.ts';
import type { VitalName, VitalRating } from '../sink.ts';

export function pageSignals(): ScopePlugin {
  return (scope) => {
    /** Ids recorded; CLS and INP not yet recorded: their latest value by id. */
    const recorded = new Set<string>();
    const held = new Map<string, [VitalName, number, VitalRating]>();
    const vital = ({ id, name, value, rating }: MetricType): void => {
      if (recorded.has(id)) return;
      const sample: [VitalName, number, VitalRating] = [name.toLowerCase() as VitalName, value, rating];
      if (name === 'CLS' || name === 'INP') held.set(id, sample);
      else {
        recorded.add(id);
        scope.emit('vital', ...sample);
      }
    };
    // Held values are recorded when the page view ends: on pagehide when the page is already
    // hidden (a tab closed after a switch), else at the visibilitychange that follows pagehide
    // (a navigation: Chromium fires pagehide first, and web-vitals reports the final CLS and INP
    // on visibilitychange). These listeners come before the scope's (plugins are set up first),
    // so the values reach the sinks before the scope's page-hide flush sends them.
    let ending = false;
    const record = (): void => {
      ending = false;
      for (const [id, sample] of held) {
        recorded.add(id);
        scope.emit('vital', ...sample);
      }
      held.clear();
    };
    const pageHide = (): void => {
      if (document.visibilityState === 'hidden') record();
      else ending = true;
    };
    const hidden = (): void => {
      if (ending && document.visibilityState === 'hidden') record();
    };
    addEventListener('pagehide', pageHide);
    document.addEventListener('visibilitychange', hidden);
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
        removeEventListener('pagehide', pageHide);
        document.removeEventListener('visibilitychange', hidden);
        removeEventListener('pointerdown', interaction, options);
        removeEventListener('keydown', interaction, options);
        removeEventListener('error', error);
        removeEventListener('unhandledrejection', error);
      },
    };
  };
}
