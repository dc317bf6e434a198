/**
 * The one place telemetry leaves the page (client reports and OTLP): a
 * bounded queue, batching, retry with backoff (network errors wait for the
 * network without spending retries), 429/503 Retry-After (at least 30 s when
 * it cannot be read), bodies split to the browser's 64 KB keepalive budget,
 * and page-hide delivery with keepalive fetch or sendBeacon. It never throws
 * and never logs.
 */
import { type BackoffOptions, backoffDelay } from '../backoff.ts';
import { utf8Length } from '../byte-length.ts';

export interface TransportOptions<T> {
  url: string;
  encode(items: T[]): string;
  headers?: Record<string, string>;
  /** Items kept while the endpoint is unreachable; beyond it the oldest are dropped. */
  maxItems: number;
  /** Items per request. */
  maxBatch: number;
  /** Deliver final flushes with navigator.sendBeacon (same-origin endpoints only: a beacon cannot be preflighted). */
  beacon?: boolean;
  backoff?: BackoffOptions;
  /**
   * Consecutive failed deliveries of one batch before it is dropped. Neither a network error
   * (offline, endpoint unreachable) nor a 429/503 without a readable Retry-After counts: those
   * wait, bounded by maxItems.
   */
  maxRetries?: number;
}

/** Bodies in flight with keepalive may not exceed 64 KiB per page; keep a margin. */
export const KEEPALIVE_BUDGET = 60 * 1024;
/** A beacon's completion cannot be observed: its bytes are assumed in flight this long. */
export const BEACON_HOLD_MS = 10_000;

// The browser's budget is per page, shared by every keepalive fetch and beacon (metrics, traces
// and reports each have a transport): so the bytes in flight are counted here, not per transport.
let keepaliveInFlight = 0;

/** Keepalive and beacon bytes the page has in flight, as the transports count them. */
export const keepaliveBytesInFlight = (): number => keepaliveInFlight;
const MAX_RETRY_AFTER_MS = 5 * 60_000;
/**
 * The least wait after a 429 or 503 whose Retry-After cannot be read (a cross-origin response that
 * does not expose it, as the collector's); the backoff's jitter fraction of it is added at random.
 */
export const RATE_LIMITED_RETRY_MS = 30_000;
const TRANSPORT_BACKOFF: BackoffOptions = { initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2, jitter: 0.5 };

export interface TransportStats {
  /** Items waiting to be sent. */
  pending: number;
  /** Items delivered (2xx). */
  delivered: number;
  /** Items dropped: queue overflow, rejected (4xx) or out of retries. */
  dropped: number;
  /** Failed requests (network error or non-2xx). */
  failures: number;
  /** Requests under way. */
  inFlight: number;
}

export class Transport<T> {
  readonly stats: TransportStats = { pending: 0, delivered: 0, dropped: 0, failures: 0, inFlight: 0 };
  private queue: T[] = [];
  private sending?: boolean;
  /** Retries the head batch has spent (HTTP errors only). */
  private retries = 0;
  /** Consecutive failed requests, whatever the cause: the backoff's exponent, so it grows to maxDelayMs. */
  private failed = 0;
  private backoffUntil = 0;
  private retryAfterUntil = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** After stop(): nothing is sent, retried or scheduled any more (a request in flight still settles). */
  private stopped?: boolean;

  constructor(private readonly options: TransportOptions<T>) {
    // Back online: the backoff grown while offline (up to maxDelayMs) is not waited out.
    globalThis.addEventListener?.('online', this.online);
  }

  private readonly online = (): void => {
    this.backoffUntil = 0;
    this.pump();
  };

  push(item: T): void {
    this.queue.push(item);
    this.trim();
  }

  /** Sends queued items now; `final` when the page is going away. */
  flush(final?: boolean): void {
    if (final) this.flushFinal();
    else this.pump();
  }

  /**
   * Stops for good (a sink's shutdown): no more requests of its own, retries or timers; a request
   * in flight that fails is not queued again, its items count as dropped. Queued items stay queued:
   * flush(true) after stop() sends them once, or drops them (counted) while a Retry-After holds.
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    globalThis.removeEventListener?.('online', this.online);
  }

  private trim(): void {
    const excess = this.queue.length - this.options.maxItems;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.stats.dropped += excess;
    }
    this.stats.pending = this.queue.length;
  }

  private pump(): void {
    const now = Date.now();
    if (this.stopped || this.sending || this.queue.length === 0 || now < this.backoffUntil || now < this.retryAfterUntil) return;
    const [batch, body] = this.take();
    this.sending = true;
    this.post(batch, body, false, () => {
      this.sending = false;
      this.pump();
    });
  }

  private flushFinal(): void {
    if (Date.now() < this.retryAfterUntil) {
      // Held back by a Retry-After; once stopped, nothing will send it later: dropped, and counted so.
      if (this.stopped) {
        this.stats.dropped += this.queue.splice(0).length;
        this.stats.pending = 0;
      }
      return;
    }
    while (this.queue.length > 0) {
      const [batch, body] = this.take();
      if (this.options.beacon && this.beacon(body)) this.stats.delivered += batch.length;
      else this.post(batch, body, true, () => {});
    }
  }

  /**
   * Takes the next batch off the queue with its body: at most maxBatch items, halved until the body
   * fits the keepalive budget (a single oversized item goes as it is). Every body is split so, also
   * outside page hide: a request still in flight when the page goes away survives only with keepalive.
   */
  private take(): [T[], string] {
    let batch = this.queue.slice(0, this.options.maxBatch);
    let body = this.options.encode(batch);
    while (utf8Length(body) > KEEPALIVE_BUDGET && batch.length > 1) body = this.options.encode((batch = batch.slice(0, Math.ceil(batch.length / 2))));
    this.queue.splice(0, batch.length);
    this.stats.pending = this.queue.length;
    return [batch, body];
  }

  /** Sends a beacon when it fits the page's keepalive budget (the browser would refuse it otherwise). */
  private beacon(body: string): boolean {
    const bytes = utf8Length(body);
    try {
      if (keepaliveInFlight + bytes > KEEPALIVE_BUDGET || !navigator.sendBeacon(this.options.url, new Blob([body], { type: 'application/json' }))) return false;
    } catch {
      // No sendBeacon, or a refused one (policy): a fetch instead.
      return false;
    }
    keepaliveInFlight += bytes;
    setTimeout(() => (keepaliveInFlight -= bytes), BEACON_HOLD_MS);
    return true;
  }

  private post(batch: T[], body: string, final: boolean, done: () => void): void {
    const bytes = utf8Length(body);
    const keepalive = keepaliveInFlight + bytes <= KEEPALIVE_BUDGET;
    if (keepalive) keepaliveInFlight += bytes;
    this.stats.inFlight++;
    const settle = (status: number, retryAfter: string | null): void => {
      this.stats.inFlight--;
      if (keepalive) keepaliveInFlight -= bytes;
      this.settle(batch, status, retryAfter, final);
      done();
    };
    try {
      fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.options.headers },
        body,
        keepalive,
        credentials: 'omit',
      }).then(
        (response) => settle(response.status, response.headers.get('retry-after')),
        () => settle(0, null),
      );
    } catch {
      // fetch throws synchronously for an invalid URL or header: a failed attempt like any other.
      settle(0, null);
    }
  }

  private settle(batch: T[], status: number, retryAfter: string | null, final: boolean): void {
    if (status >= 200 && status < 300) {
      this.stats.delivered += batch.length;
      this.retries = this.failed = this.backoffUntil = 0;
      return;
    }
    this.stats.failures++;
    const retryable = status === 0 || status === 408 || status === 429 || status >= 500;
    const delay = retryAfterMs(retryAfter);
    // A 429/503 whose Retry-After is unreadable (not CORS-exposed): the endpoint is up and wants a
    // pause of unknown length. A network error (status 0): the page is offline or the endpoint is
    // unreachable, which is when drops are worth reporting. Both are waited out without spending
    // retries, so a long one does not drop the batch: the queue's bound (oldest dropped) applies.
    const unreadRateLimit = (status === 429 || status === 503) && delay === undefined;
    // Stopped (shut down, or replaced by a new scope): a failure is final, or retries would outlive the scope.
    if (this.stopped || !retryable || (status && !unreadRateLimit && ++this.retries > (this.options.maxRetries ?? 5))) {
      this.stats.dropped += batch.length;
      this.retries = 0;
      // Out of retries: the next batch still waits out the backoff (below), the endpoint is failing.
      if (this.stopped || !retryable) return;
    } else {
      // Back to the head of the queue, still within its bound.
      this.queue.unshift(...batch);
      this.trim();
    }
    const backoff = this.options.backoff ?? TRANSPORT_BACKOFF;
    this.failed++;
    if (delay !== undefined) this.retryAfterUntil = Date.now() + delay;
    else if (unreadRateLimit) this.retryAfterUntil = Date.now() + rateLimitedDelay(backoff.jitter);
    else if (!final) this.backoffUntil = Date.now() + backoffDelay(this.failed, backoff);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.max(this.backoffUntil, this.retryAfterUntil) - Date.now());
  }
}

/** Retry-After as delay-seconds or an HTTP date, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : undefined;
}

/** RATE_LIMITED_RETRY_MS plus up to `jitter` of it, so a fleet of pages limited at once does not return in lockstep. */
function rateLimitedDelay(jitter: number): number {
  return Math.round(RATE_LIMITED_RETRY_MS * (1 + Math.min(1, Math.max(0, jitter || 0)) * Math.random()));
}
