/**
 * App-level heartbeat: browsers neither expose protocol pings nor their RTT,
 * so the socket sends a ping message the server answers. A missing reply
 * means the connection is dead even if the browser has not noticed (half-open
 * TCP can last minutes): the socket is then closed so it reconnects.
 */
export interface HeartbeatOptions {
  /** Default 15 000 ms. */
  intervalMs?: number;
  /** A reply later than this closes the connection. Default 10 000 ms. */
  timeoutMs?: number;
  /** The ping message. Default 'ping'. */
  message?: string | (() => string);
  /** Recognises the server's reply; replies are not passed on as messages. Default: data === 'pong'. */
  isPong?: (data: unknown) => boolean;
}

export class Heartbeat {
  private interval: ReturnType<typeof setInterval> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private sentAt = -1;

  constructor(
    private readonly options: HeartbeatOptions,
    private readonly send: (data: string) => void,
    private readonly onRtt: (seconds: number) => void,
    private readonly onTimeout: () => void,
  ) {}

  start(): void {
    this.stop();
    this.interval = setInterval(() => this.beat(), this.options.intervalMs ?? 15_000);
    this.beat();
  }

  stop(): void {
    clearInterval(this.interval);
    clearTimeout(this.deadline);
    this.sentAt = -1;
  }

  /** True when `data` is a heartbeat reply (then timed and consumed). */
  handle(data: unknown): boolean {
    if (!(this.options.isPong ?? ((d: unknown) => d === 'pong'))(data)) return false;
    if (this.sentAt >= 0) {
      this.onRtt((performance.now() - this.sentAt) / 1000);
      clearTimeout(this.deadline);
      this.sentAt = -1;
    }
    return true;
  }

  private beat(): void {
    if (this.sentAt >= 0) return; // the previous ping is still awaiting its reply
    const message = this.options.message ?? 'ping';
    this.sentAt = performance.now();
    this.send(typeof message === 'function' ? message() : message);
    this.deadline = setTimeout(() => {
      this.stop();
      this.onTimeout();
    }, this.options.timeoutMs ?? 10_000);
  }
}
