/** Outgoing messages held while the socket is not open, bounded by count,
 * bytes and age. A message that does not fit is refused (the caller counts it
 * as dropped): the oldest messages are kept because they are often the ones
 * later ones depend on (authenticate, subscribe). */
export interface QueueLimits {
  maxMessages: number;
  maxBytes: number;
  /** Messages older than this when the socket opens are discarded, not sent late. */
  maxAgeMs: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = { maxMessages: 100, maxBytes: 1_048_576, maxAgeMs: 60_000 };

interface Entry<T> {
  item: T;
  bytes: number;
  at: number;
}

export class MessageQueue<T> {
  private entries: Entry<T>[] = [];
  private bytes = 0;

  constructor(private readonly limits: QueueLimits) {}

  get length(): number {
    return this.entries.length;
  }

  get byteLength(): number {
    return this.bytes;
  }

  /** Adds a message; false when it would exceed a limit (the message is not kept). */
  offer(item: T, bytes: number, now: number): boolean {
    if (this.entries.length >= this.limits.maxMessages || this.bytes + bytes > this.limits.maxBytes) return false;
    this.entries.push({ item, bytes, at: now });
    this.bytes += bytes;
    return true;
  }

  /** Empties the queue: the messages still fresh (in order) and how many had expired. */
  drain(now: number): { fresh: T[]; expired: number } {
    const fresh: T[] = [];
    let expired = 0;
    for (const entry of this.entries) {
      if (now - entry.at > this.limits.maxAgeMs) expired++;
      else fresh.push(entry.item);
    }
    this.clear();
    return { fresh, expired };
  }

  /** Discards everything; returns how many messages were discarded. */
  clear(): number {
    const count = this.entries.length;
    this.entries = [];
    this.bytes = 0;
    return count;
  }
}
