/**
 * POST /admin/api/connection-tests: the Testing tab runs socketscope's
 * connection tests (basic, pool, echo) in-process. Bounded on every axis: a
 * deadline, small counts, one test at a time per client and a few at once
 * overall, ws:// and wss:// only; the test stops when the page goes away.
 * A token holder could otherwise probe what the service's host reaches: link-local
 * addresses and cloud metadata endpoints are refused (or, with
 * CONNECTION_TEST_ALLOWED_HOSTS, everything not on that list), the test connects
 * to the addresses that were checked, and failures come back as error classes,
 * never the raw error text.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError, zodDetails } from '../api/errors.ts';
import { runConnectionTest } from '../loadtest/index.ts';
import type { ResolvedAddress } from '../loadtest/index.ts';

export const CONNECTION_TEST_LIMITS = {
  /** The whole test, connect to close; below the HTTP server's request timeout. */
  deadlineMs: 45_000,
  echoCount: 1_000,
  payloadBytes: 64 * 1024,
  poolConnections: 500,
  poolWorkers: 4,
  poolHoldS: 30,
  concurrent: 2,
} as const;

const wsUrl = z
  .string()
  .trim()
  .max(2048)
  .pipe(z.url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' }));

export const connectionTestBodySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('basic'), url: wsUrl }),
  z.strictObject({
    kind: z.literal('echo'),
    url: wsUrl,
    count: z.int().min(1).max(CONNECTION_TEST_LIMITS.echoCount).default(20),
    payload_bytes: z.int().min(0).max(CONNECTION_TEST_LIMITS.payloadBytes).default(0),
  }),
  z.strictObject({
    kind: z.literal('pool'),
    url: wsUrl,
    connections: z.int().min(1).max(CONNECTION_TEST_LIMITS.poolConnections).default(20),
    workers: z.int().min(1).max(CONNECTION_TEST_LIMITS.poolWorkers).default(2),
    hold_s: z.number().min(0).max(CONNECTION_TEST_LIMITS.poolHoldS).default(1),
  }),
]);
export type ConnectionTestBody = z.input<typeof connectionTestBodySchema>;

/** Link-local (where AWS, GCP, Azure… serve instance metadata and credentials) and other metadata addresses. */
const REFUSED_ADDRESSES = new BlockList();
REFUSED_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED_ADDRESSES.addSubnet('fe80::', 10, 'ipv6');
REFUSED_ADDRESSES.addAddress('fd00:ec2::254', 'ipv6'); // AWS IMDS over IPv6
REFUSED_ADDRESSES.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
/** Metadata host names, refused before any lookup (a resolver may answer them differently later). */
const REFUSED_HOSTNAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.internal']);

export type HostLookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;
const systemLookup: HostLookup = (hostname) => lookup(hostname, { all: true, verbatim: true });

const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** An allow-list entry set (CONNECTION_TEST_ALLOWED_HOSTS, already validated by the config): names and address ranges. */
function allowListOf(entries: readonly string[]): { names: Set<string>; addresses: BlockList } {
  const names = new Set<string>();
  const addresses = new BlockList();
  for (const entry of entries) {
    const [ip = '', prefix] = entry.split('/');
    if (isIP(ip) === 0) names.add(entry);
    else if (prefix === undefined) addresses.addAddress(ip, family(ip));
    else addresses.addSubnet(ip, Number(prefix), family(ip));
  }
  return { names, addresses };
}

const notAllowed = (why: string) => new ApiError(403, 'target_not_allowed', `connection tests may not target ${why}`);

/**
 * Throws ApiError 403 when the URL's host may not be tested. With an allow-list, the host name must
 * be on it or every address it resolves to inside a listed range; without one, a metadata name or
 * any resolved address that is link-local is refused (loopback and private networks stay allowed).
 * Returns the checked addresses, which the test then connects to (so a resolver that changes its
 * answer in between, DNS rebinding, cannot redirect it); undefined for an IP literal or a listed name.
 */
export async function checkTestTarget(
  url: string,
  allowedHosts: readonly string[] | undefined,
  resolve: HostLookup = systemLookup,
): Promise<ResolvedAddress[] | undefined> {
  const hostname = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  const allowList = allowedHosts ? allowListOf(allowedHosts) : undefined;
  if (allowList?.names.has(hostname)) return undefined;
  if (!allowList && REFUSED_HOSTNAMES.has(hostname)) throw notAllowed('cloud metadata endpoints');
  const literal = isIP(hostname) !== 0;
  let addresses: Array<{ address: string }>;
  try {
    addresses = literal ? [{ address: hostname }] : await resolve(hostname);
  } catch {
    throw new ApiError(400, 'host_not_found', 'the host name could not be resolved');
  }
  if (addresses.length === 0) throw new ApiError(400, 'host_not_found', 'the host name could not be resolved');
  for (const { address } of addresses) {
    if (allowList && !allowList.addresses.check(address, family(address))) throw notAllowed('hosts outside CONNECTION_TEST_ALLOWED_HOSTS');
    if (!allowList && REFUSED_ADDRESSES.check(address, family(address))) throw notAllowed('link-local or cloud metadata addresses');
  }
  return literal ? undefined : addresses.map(({ address }) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
}

/** The loadtest's "could not connect (CLASS): raw message" without the raw message; its other errors are its own sentences. */
function genericError(error: string | undefined): string | undefined {
  if (error === undefined) return undefined;
  const connect = /^could not connect \(([A-Za-z0-9_-]+)\)/.exec(error);
  if (connect) return `could not connect (${connect[1]})`;
  return error.startsWith('could not connect') ? 'could not connect' : error;
}

export interface ConnectionTestOptions {
  /** CONNECTION_TEST_ALLOWED_HOSTS, read on each request. */
  allowedHosts?: () => readonly string[] | undefined;
  lookup?: HostLookup;
  logger?: () => Logger;
}

export function connectionTestHandler(options: ConnectionTestOptions = {}): RequestHandler {
  const running = new Set<string>();
  return async (req, res) => {
    const parsed = connectionTestBodySchema.safeParse(req.body);
    if (!parsed.success) throw new ApiError(400, 'validation_failed', 'invalid connection test', zodDetails(parsed.error));
    const addresses = await checkTestTarget(parsed.data.url, options.allowedHosts?.(), options.lookup);
    const client = req.ip ?? 'unknown';
    if (running.has(client)) throw new ApiError(409, 'test_in_progress', 'a connection test from this client is still running; wait for it to finish');
    if (running.size >= CONNECTION_TEST_LIMITS.concurrent) throw new ApiError(503, 'tests_busy', `${CONNECTION_TEST_LIMITS.concurrent} connection tests are running; try again shortly`);

    const body = parsed.data;
    const gone = new AbortController();
    // The page navigated away or the request was cancelled: stop the test.
    res.once('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the client went away'));
    });
    const signal = AbortSignal.any([gone.signal, AbortSignal.timeout(CONNECTION_TEST_LIMITS.deadlineMs)]);
    const handshakeTimeoutMs = 10_000;
    const pinned = addresses ? { addresses } : {};
    running.add(client);
    try {
      const result =
        body.kind === 'basic'
          ? await runConnectionTest('basic', { url: body.url, handshakeTimeoutMs, ...pinned, signal })
          : body.kind === 'echo'
            ? await runConnectionTest('echo', { url: body.url, count: body.count, payloadBytes: body.payload_bytes, timeoutMs: 5_000, handshakeTimeoutMs, ...pinned, signal })
            : await runConnectionTest('pool', {
                url: body.url,
                connections: body.connections,
                workers: body.workers,
                holdS: body.hold_s,
                rampUpS: 0,
                handshakeTimeoutMs,
                ...pinned,
                signal,
              });
      res.json({ ...result, error: genericError(result.error) });
    } catch (error) {
      if (gone.signal.aborted) return;
      if (signal.aborted) throw new ApiError(504, 'test_timed_out', `the test did not finish within ${CONNECTION_TEST_LIMITS.deadlineMs / 1000} s`);
      // The raw text may carry what the target answered or its certificate's names: logged, not returned.
      options.logger?.().warn({ err: error, kind: body.kind }, 'connection test could not run');
      throw new ApiError(400, 'test_failed', 'the connection test could not run');
    } finally {
      running.delete(client);
    }
  };
}
