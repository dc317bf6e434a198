/**
 * `client.address` behind reverse proxies, from `X-Forwarded-For`. Each proxy appends the
 * address it received the request from, so the entries on the right are the ones our own
 * proxies wrote and everything to their left is whatever the client sent: only the entry that
 * the outermost trusted proxy appended names the client. As Express's `trust proxy` with a
 * number: the peer of the TCP connection is hop 0, the header's entries are the next hops from
 * right to left, and with `hops` trusted proxies the client is the address `hops` hops away (the
 * leftmost entry when the header has fewer).
 */

/** `trustProxy` as a hop count: false/undefined 0, true 1, or a non-negative integer. Throws on anything else. */
export function trustedHops(trustProxy: unknown): number {
  if (trustProxy === undefined || trustProxy === false) return 0;
  if (trustProxy === true) return 1;
  if (typeof trustProxy === 'number' && Number.isSafeInteger(trustProxy) && trustProxy >= 0) return trustProxy;
  throw new RangeError(`trustProxy must be a boolean or an integer >= 0 (trusted proxy hops), got ${String(trustProxy)}`);
}

/** The client's address: `hops` hops away from the peer through `X-Forwarded-For`, or the peer itself. */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, hops: number): string | undefined {
  if (hops === 0 || forwardedFor === undefined) return peer;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const entries = header.split(',');
  let address: string | undefined;
  let taken = 0;
  for (let i = entries.length - 1; i >= 0 && taken < hops; i--) {
    const entry = entries[i]!.trim();
    if (entry === '') continue;
    address = entry;
    taken++;
  }
  return address ?? peer;
}
