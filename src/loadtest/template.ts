/**
 * Message templates for `socketscope load --message`. A template is compiled
 * once per connection into literal parts and slots, so rendering a message is
 * a handful of string concatenations on the hot path.
 *
 * Placeholders:
 *   {{id}}       correlation id `<run tag>.<connection>.<seq>`; echoes are matched by it
 *   {{seq}}      per-connection sequence number (0, 1, 2, …)
 *   {{conn}}     connection index within the run (0 … connections-1)
 *   {{ts}}       wall-clock send time, milliseconds since the Unix epoch
 *   {{payload}}  filler of --payload-bytes ASCII characters
 */

export const PLACEHOLDERS = ['id', 'seq', 'conn', 'ts', 'payload'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** `sentAt` is the field the server SDK's jsonEnvelope() reads for end-to-end latency. */
export const DEFAULT_TEMPLATE = '{"type":"loadtest","id":"{{id}}","seq":{{seq}},"sentAt":{{ts}},"payload":"{{payload}}"}';

const SLOT = /\{\{\s*([A-Za-z_]+)\s*\}\}/g;

export interface CompiledTemplate {
  literals: string[];
  slots: Placeholder[];
  /** True when messages carry {{id}}, i.e. echoes can be correlated. */
  correlates: boolean;
}

/** Parses a template; throws on an unknown placeholder, naming the known ones. */
export function compileTemplate(template: string): CompiledTemplate {
  const literals: string[] = [];
  const slots: Placeholder[] = [];
  let last = 0;
  for (const match of template.matchAll(SLOT)) {
    const name = match[1] as string;
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new Error(`unknown placeholder {{${name}}} in --message; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`);
    }
    literals.push(template.slice(last, match.index));
    slots.push(name as Placeholder);
    last = match.index + match[0].length;
  }
  literals.push(template.slice(last));
  return { literals, slots, correlates: slots.includes('id') };
}

/** A random per-run tag, so ids of this run never collide with other traffic on the same server. */
export function runTag(): string {
  return `ss${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`;
}

/** Renders messages for one connection; the per-connection parts are fixed up front. */
export class MessageRenderer {
  private readonly idPrefix: string;
  private readonly payload: string;

  constructor(
    private readonly template: CompiledTemplate,
    tag: string,
    private readonly conn: number,
    payloadBytes: number,
  ) {
    this.idPrefix = `${tag}.${conn}.`;
    this.payload = 'x'.repeat(payloadBytes);
  }

  render(seq: number, nowMs: number): string {
    const { literals, slots } = this.template;
    let out = literals[0] as string;
    for (let i = 0; i < slots.length; i++) {
      switch (slots[i]) {
        case 'id':
          out += this.idPrefix + seq;
          break;
        case 'seq':
          out += seq;
          break;
        case 'conn':
          out += this.conn;
          break;
        case 'ts':
          out += Math.floor(nowMs);
          break;
        case 'payload':
          out += this.payload;
          break;
      }
      out += literals[i + 1] as string;
    }
    return out;
  }
}

export interface CorrelationId {
  conn: number;
  seq: number;
}

/**
 * Finds `<tag>.<conn>.<seq>` in a received frame without decoding it to a
 * string. Returns null when the frame carries no id of this run.
 */
export function parseCorrelationId(frame: Buffer, tagWithDot: Buffer): CorrelationId | null {
  const at = frame.indexOf(tagWithDot);
  if (at < 0) return null;
  let i = at + tagWithDot.length;
  let conn = 0;
  let digits = 0;
  for (; i < frame.length; i++) {
    const c = frame[i] as number;
    if (c < 48 || c > 57) break;
    conn = conn * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || frame[i] !== 46) return null;
  i++;
  let seq = 0;
  digits = 0;
  for (; i < frame.length; i++) {
    const c = frame[i] as number;
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
    digits++;
  }
  return digits === 0 ? null : { conn, seq };
}
