/** The browser session: a random local id (not PII, never a metric
 * attribute) and the sampling decision, both kept for the tab's lifetime in
 * sessionStorage so a reload stays in the same session. */
export interface Session {
  id: string;
  sampled: boolean;
}

const KEY = 'socketscope.session';
const STORED = /^([A-Za-z0-9_-]{16,64})\.([01])$/;

export function newSessionId(): string {
  // 16 random bytes: 22 base64 characters (and '==' padding, cut), made URL-safe.
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .slice(0, 22)
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

function storage(): Storage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    // Sandboxed frames and some privacy modes throw on access: the session then lives in memory.
    return undefined;
  }
}

/** Restores this tab's session or starts one, sampled with probability `sampleRate`. */
export function startSession(sampleRate: number, store: Storage | undefined = storage(), random: () => number = Math.random): Session {
  try {
    const match = STORED.exec(store?.getItem(KEY) ?? '');
    if (match) return { id: match[1] as string, sampled: match[2] === '1' };
  } catch {
    // Unreadable storage: start a fresh session below.
  }
  const session = { id: newSessionId(), sampled: random() < sampleRate };
  try {
    store?.setItem(KEY, `${session.id}.${session.sampled ? 1 : 0}`);
  } catch {
    // Full or blocked storage: the session is kept in memory only.
  }
  return session;
}
