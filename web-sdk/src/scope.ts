/**
 * The monitoring scope of a page: the session, the network information and
 * the sinks every monitored socket reports to. `initSocketScope()` starts the
 * default one; sockets use it unless given another.
 */
import { type NetworkInfo, networkConnection, readNetwork } from './attributes.ts';
import { onPageHide } from './page-lifecycle.ts';
import { type ReportOptions, createReporter } from './report/reporter.ts';
import { type Session, startSession } from './session.ts';
import type { MonitorSink, SinkEvent } from './sink.ts';
import type { SocketTracer } from './traces/socket-tracer.ts';

/** A plugin adds a sink (and may provide tracing) to a scope: OTel export, page signals. */
export type ScopePlugin = (scope: SocketScope) => (MonitorSink & { tracer?: SocketTracer }) | void;

export interface ScopeOptions {
  /** Application name and version, carried in client reports. */
  app?: { name: string; version?: string };
  /** Probability (0–1) that a session is monitored at all; decided once per tab session. Default 1. */
  sampleRate?: number;
  /** Client reports to the analytics service; omitted: no reports. */
  report?: ReportOptions;
  plugins?: ScopePlugin[];
  /** Receives the SDK's own failures (a sink that threw); the SDK never throws into the app nor logs to the console. */
  onError?: (error: unknown) => void;
  /** Storage for the session id; default sessionStorage. */
  storage?: Storage;
}

/** What a connection tracker reports to: a page's scope, or a stand-in outside a page (the demo's synthetic clients). */
export type TrackerScope = Pick<SocketScope, 'active' | 'tracer' | 'emit'>;

export class SocketScope {
  readonly session: Session;
  readonly app: ScopeOptions['app'];
  tracer: SocketTracer | undefined;
  private readonly sinks: MonitorSink[] = [];
  private cachedNetwork: NetworkInfo | undefined;
  private readonly detach: Array<() => void> = [];

  constructor(private readonly options: ScopeOptions = {}) {
    this.app = options.app;
    this.session = startSession(options.sampleRate ?? 1, options.storage);
    if (!this.session.sampled) return;
    if (options.report) this.sinks.push(createReporter(options.report, this));
    for (const plugin of options.plugins ?? []) {
      const sink = this.guard(() => plugin(this));
      if (!sink) continue;
      this.sinks.push(sink);
      this.tracer ??= sink.tracer;
    }
    const connection = networkConnection();
    const refresh = (): void => void (this.cachedNetwork = undefined);
    connection?.addEventListener('change', refresh);
    this.detach.push(() => connection?.removeEventListener('change', refresh), onPageHide(() => this.flush(true)));
  }

  /** True when this session reports anything. */
  get active(): boolean {
    return this.sinks.length > 0;
  }

  /** Network information, re-read when the browser reports a change. */
  get network(): NetworkInfo {
    return (this.cachedNetwork ??= readNetwork());
  }

  emit<K extends SinkEvent>(event: K, ...args: Parameters<NonNullable<MonitorSink[K]>>): void {
    for (const sink of this.sinks) {
      const handler = sink[event] as ((...a: typeof args) => void) | undefined;
      if (handler) this.guard(() => handler.apply(sink, args));
    }
  }

  /** Sends what every sink buffered; `final` when the page goes away (keepalive/beacon requests). */
  flush(final = false): void {
    for (const sink of this.sinks) this.guard(() => sink.flush?.(final));
  }

  /** Flushes and stops every sink (e.g. before a single-page app tears the monitor down). */
  async shutdown(): Promise<void> {
    for (const stop of this.detach.splice(0)) stop();
    await Promise.all(this.sinks.splice(0).map((sink) => this.guard(() => sink.shutdown?.())));
  }

  private guard<T>(run: () => T): T | undefined {
    try {
      const result = run();
      if (result instanceof Promise) return result.catch((error: unknown) => this.options.onError?.(error)) as T;
      return result;
    } catch (error) {
      this.options.onError?.(error);
      return undefined;
    }
  }
}

let defaultScope: SocketScope | undefined;

/** Starts the page's default scope (replacing a previous one, which is shut down). */
export function initSocketScope(options: ScopeOptions = {}): SocketScope {
  void defaultScope?.shutdown();
  defaultScope = new SocketScope(options);
  return defaultScope;
}

export function getSocketScope(): SocketScope | undefined {
  return defaultScope;
}
