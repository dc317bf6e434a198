/**
 * Rooms (channels) and subscriptions: join, leave, broadcast, with the
 * metrics reported as they happen. Channel names are application data and
 * unbounded, so a channel gets its own `websocket.channel` series only when
 * it is allow-listed or among the N largest at the last collection; all
 * others are reported as `_OTHER`.
 *
 * Every channel that was ever in the top N leaves a series behind (the SDK
 * keeps a cumulative series it has seen, and a histogram series per channel
 * that was broadcast to): with rooms that come and go, the names that may
 * enter the top N are capped over the server's lifetime (`maxNamed`); past
 * the cap only names already given a series can be in the top N again.
 */
import type { Attributes } from '@opentelemetry/api';
import type { WebSocket } from 'ws';
import type { ConnectionState } from './connection-state.ts';
import { ATTR_CHANNEL, OTHER } from './semconv.ts';
import type { ChannelOptions } from './types.ts';

const OPEN = 1;
const OTHER_ATTRS: Attributes = Object.freeze({ [ATTR_CHANNEL]: OTHER });

export interface RoomsHooks {
  stateOf(socket: WebSocket): ConnectionState | undefined;
  /** Sends one message of a known type to one socket (counted by the instrumentation). */
  sendTyped(socket: WebSocket, data: SendData, typeIndex: number, binary: boolean | undefined): void;
  typeIndex(type: string | undefined): number;
  broadcastDone(durationSeconds: number, recipients: number, channelAttrs: Attributes): void;
}

/** What broadcast() and send() take: anything `ws` sends, and `ws`'s RawData (a fragmented message's Buffer[] is joined once). */
export type BroadcastData = string | Buffer | ArrayBuffer | Uint8Array | Buffer[];
/** What reaches socket.send(). */
export type SendData = string | Buffer | ArrayBuffer | Uint8Array;

/** A fragmented message arrives from ws as Buffer[]: ws.send() cannot take an array, so join it (once per broadcast). */
export function sendable(data: BroadcastData): SendData {
  return Array.isArray(data) ? Buffer.concat(data) : data;
}

export interface BroadcastOptions {
  /** Message type for `websocket.server.sent.messages`. */
  type?: string;
  /** A socket to leave out (usually the sender). */
  except?: WebSocket;
  /**
   * Send as a binary frame; defaults to binary for anything but a string. A
   * text message forwarded as ws delivered it (a Buffer) needs `binary: isBinary`
   * from the message listener, or browsers receive a Blob.
   */
  binary?: boolean;
}

export class Rooms {
  private readonly members = new Map<string, Set<WebSocket>>();
  private readonly allowed: ReadonlySet<string>;
  private readonly topN: number;
  private readonly maxNamed: number;
  /** Channels with their own series: allow-list plus the top N of the last collection. */
  private named = new Map<string, Attributes>();
  /** Every name the top N ever gave a series to (at most maxNamed), with its attribute set. */
  private readonly everNamed = new Map<string, Attributes>();
  private subscriptionTotal = 0;
  /** True once anything joined: only then is the per-connection subscriptions histogram worth recording. */
  used = false;

  constructor(
    private readonly hooks: RoomsHooks,
    options: ChannelOptions = {},
  ) {
    const allow = options.allow ?? [];
    for (const channel of allow) {
      if (typeof channel !== 'string' || channel.length === 0) throw new Error(`channels.allow: invalid channel ${JSON.stringify(channel)}`);
    }
    this.allowed = new Set(allow.filter((c) => c !== OTHER));
    this.topN = options.topN ?? 0;
    if (!Number.isInteger(this.topN) || this.topN < 0 || this.topN > 1000) throw new RangeError(`channels.topN must be an integer in 0..1000, got ${options.topN}`);
    this.maxNamed = options.maxNamed ?? Math.min(10 * this.topN, 1000);
    if (!Number.isInteger(this.maxNamed) || this.maxNamed < 0 || this.maxNamed > 10_000) {
      throw new RangeError(`channels.maxNamed must be an integer in 0..10000, got ${options.maxNamed}`);
    }
    for (const channel of this.allowed) this.named.set(channel, Object.freeze({ [ATTR_CHANNEL]: channel }));
  }

  /** Adds a socket to a channel; false when it was already a member or is not an instrumented open socket. */
  join(socket: WebSocket, channel: string): boolean {
    const state = this.hooks.stateOf(socket);
    if (!state) return false;
    let set = this.members.get(channel);
    if (set?.has(socket)) return false;
    if (!set) {
      set = new Set();
      this.members.set(channel, set);
    }
    set.add(socket);
    state.channels ??= new Set();
    state.channels.add(channel);
    if (state.channels.size > state.peakSubscriptions) state.peakSubscriptions = state.channels.size;
    this.subscriptionTotal++;
    this.used = true;
    return true;
  }

  leave(socket: WebSocket, channel: string): boolean {
    const set = this.members.get(channel);
    if (!set?.delete(socket)) return false;
    if (set.size === 0) this.members.delete(channel);
    this.hooks.stateOf(socket)?.channels?.delete(channel);
    this.subscriptionTotal--;
    return true;
  }

  /** Leaves every channel (called when the socket closes). */
  leaveAll(socket: WebSocket, state: ConnectionState): void {
    if (!state.channels) return;
    for (const channel of state.channels) {
      const set = this.members.get(channel);
      if (!set?.delete(socket)) continue;
      if (set.size === 0) this.members.delete(channel);
      this.subscriptionTotal--;
    }
    state.channels = undefined;
  }

  /** Sends to every open member; returns how many it was sent to. */
  broadcast(channel: string, data: BroadcastData, options: BroadcastOptions = {}): number {
    const start = performance.now();
    const set = this.members.get(channel);
    let recipients = 0;
    if (set) {
      const typeIndex = this.hooks.typeIndex(options.type);
      const payload = sendable(data);
      for (const socket of set) {
        if (socket === options.except || socket.readyState !== OPEN) continue;
        this.hooks.sendTyped(socket, payload, typeIndex, options.binary);
        recipients++;
      }
    }
    this.hooks.broadcastDone((performance.now() - start) / 1000, recipients, this.named.get(channel) ?? OTHER_ATTRS);
    return recipients;
  }

  size(channel: string): number {
    return this.members.get(channel)?.size ?? 0;
  }

  channelsOf(socket: WebSocket): string[] {
    return [...(this.hooks.stateOf(socket)?.channels ?? [])];
  }

  get roomCount(): number {
    return this.members.size;
  }

  get subscriptionCount(): number {
    return this.subscriptionTotal;
  }

  /**
   * Reports subscriptions per channel, folding all but the allow-list and the
   * current top N into `_OTHER`, and re-picks the top N for the next broadcasts.
   * A channel that drops out of the top N is no longer reported here; the
   * Meter's callback reports it as 0 once (see MeterInstruments).
   */
  observe(observe: (value: number, attributes: Attributes) => void): void {
    if (this.topN > 0) this.pickTop();
    let other = 0;
    for (const [channel, set] of this.members) {
      const attrs = this.named.get(channel);
      if (attrs) observe(set.size, attrs);
      else other += set.size;
    }
    // Named channels that emptied report 0 rather than vanishing mid-series.
    for (const [channel, attrs] of this.named) if (!this.members.has(channel)) observe(0, attrs);
    if (other > 0 || this.used) observe(other, OTHER_ATTRS);
  }

  private pickTop(): void {
    const candidates: Array<[string, number]> = [];
    for (const [channel, set] of this.members) if (!this.allowed.has(channel)) candidates.push([channel, set.size]);
    candidates.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const next = new Map<string, Attributes>();
    for (const channel of this.allowed) next.set(channel, this.named.get(channel)!);
    let picked = 0;
    for (const [channel] of candidates) {
      if (picked === this.topN) break;
      let attrs = this.everNamed.get(channel);
      if (attrs === undefined) {
        // Past the cap, a new name stays _OTHER and the next known one takes the slot.
        if (this.everNamed.size >= this.maxNamed) continue;
        attrs = Object.freeze({ [ATTR_CHANNEL]: channel });
        this.everNamed.set(channel, attrs);
      }
      next.set(channel, attrs);
      picked++;
    }
    this.named = next;
  }
}
