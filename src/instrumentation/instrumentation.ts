/**
 * The server SDK as an OpenTelemetry `Instrumentation`, for apps that set up
 * telemetry with `registerInstrumentations()` / NodeSDK: it patches
 * `WebSocketServer.prototype.handleUpgrade` of `ws` 8 so that every server
 * instruments itself (with `instrumentWebSocketServer`) on its first upgrade
 * request. Import it from `@socketscope/instrumentation-ws/register`: this is the
 * only module of the SDK that needs `@opentelemetry/instrumentation` (an
 * optional peer dependency).
 *
 * It patches `ws` as `require()` loads it. An ES module app (`import 'ws'`
 * loads ws/wrapper.mjs) is patched only when the app registers
 * `@opentelemetry/instrumentation/hook.mjs` as a module loader hook before
 * importing `ws` (docs/server-sdk.md, ES modules).
 */
import { InstrumentationBase, type InstrumentationConfig, InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import type { WebSocketServer } from 'ws';
import { AlreadyInstrumentedError, instrumentWebSocketServer } from './instrument-server.ts';
import { SCOPE_NAME, SCOPE_VERSION } from './scope.ts';
import type { InstrumentWebSocketServerOptions, WebSocketServerInstrumentation } from './types.ts';

export type WebSocketInstrumentationConfig = InstrumentationConfig &
  Omit<InstrumentWebSocketServerOptions, 'meter' | 'tracer' | 'meterProvider' | 'tracerProvider'>;

type HandleUpgrade = WebSocketServer['handleUpgrade'];
interface ServerClass {
  prototype: { handleUpgrade: HandleUpgrade };
}

function serverClass(exports: unknown): ServerClass | undefined {
  const module = exports as { WebSocketServer?: ServerClass; Server?: ServerClass; default?: { WebSocketServer?: ServerClass } };
  return module.WebSocketServer ?? module.Server ?? module.default?.WebSocketServer;
}

export class WsServerInstrumentation extends InstrumentationBase<WebSocketInstrumentationConfig> {
  /** Servers this instrumentation instrumented and that are still open, so disable() can undo them. */
  private readonly handles = new Map<WebSocketServer, { handle: WebSocketServerInstrumentation; onClose: () => void }>();
  /** Servers instrumentWebSocketServer refused (said once, then left alone). */
  private readonly refused = new WeakSet<WebSocketServer>();
  /** This instance's wrapper of `handleUpgrade`, when it is the one that patched ws. */
  private wrapper: HandleUpgrade | undefined;

  constructor(config: WebSocketInstrumentationConfig = {}) {
    super(SCOPE_NAME, SCOPE_VERSION, config);
  }

  protected override init() {
    return new InstrumentationNodeModuleDefinition(
      'ws',
      ['>=8.5.0 <9'],
      (exports: unknown) => {
        const Server = serverClass(exports);
        if (!Server) {
          this._diag.error('ws module without a WebSocketServer export; not instrumented');
          return exports;
        }
        // One instance patches ws (InstrumentationBase's _wrap replaces any wrapper it finds): a second
        // one stays out of the way rather than take over, and a later disable() of either is its own.
        const current = Server.prototype.handleUpgrade;
        if (isWrapped(current) && current !== this.wrapper) {
          this._diag.warn('ws is already instrumented by another WsServerInstrumentation; this one stays inactive');
          return exports;
        }
        this._wrap(Server.prototype, 'handleUpgrade', (original) => (this.wrapper = this.patchHandleUpgrade(original)));
        return exports;
      },
      (exports: unknown) => {
        const Server = serverClass(exports);
        // Only our own wrapper: another instance's stays.
        if (Server && this.wrapper && Server.prototype.handleUpgrade === this.wrapper) this._unwrap(Server.prototype, 'handleUpgrade');
        this.wrapper = undefined;
      },
    );
  }

  override disable(): void {
    super.disable();
    for (const [server, { handle, onClose }] of this.handles) {
      server.removeListener('close', onClose);
      handle.shutdown();
    }
    this.handles.clear();
  }

  /** How many open servers it instrumented (for tests). */
  get instrumentedServers(): number {
    return this.handles.size;
  }

  private patchHandleUpgrade(original: HandleUpgrade): HandleUpgrade {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper's `this` is the server
    const instrumentation = this;
    return function handleUpgrade(this: WebSocketServer, ...args: Parameters<HandleUpgrade>) {
      if (!instrumentation.isEnabled() || instrumentation.handles.has(this) || instrumentation.refused.has(this)) return original.apply(this, args);
      let handle: WebSocketServerInstrumentation;
      try {
        const { enabled: _enabled, ...options } = instrumentation.getConfig();
        handle = instrumentWebSocketServer(this, { ...options, meter: instrumentation.meter, tracer: instrumentation.tracer });
      } catch (error) {
        // Already instrumented by hand (that handle reports it): leave it as it is. Any other refusal (ws
        // < 8.5, the heartbeat without clientTracking, a bad option) leaves the server without metrics:
        // said out loud, once per server.
        instrumentation.refused.add(this);
        if (error instanceof AlreadyInstrumentedError) instrumentation._diag.debug('server already instrumented by hand', error);
        else instrumentation._diag.warn('server not instrumented: it runs without socketscope metrics', error);
        return original.apply(this, args);
      }
      // Kept until the server closes (the handle then releases its part of the report by
      // itself, its counters keeping their last values) or until disable(). The closed
      // server keeps its instance-level handleUpgrade, so it is never instrumented again.
      const onClose = (): void => void instrumentation.handles.delete(this);
      this.once('close', onClose);
      instrumentation.handles.set(this, { handle, onClose });
      // The instance now has its own instrumented handleUpgrade.
      return this.handleUpgrade(...args);
    };
  }
}
