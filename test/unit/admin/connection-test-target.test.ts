/**
 * Which hosts the Testing tab may connect to (src/admin/connection-test-route.ts):
 * by default anything but link-local addresses and cloud metadata endpoints,
 * judged on the addresses a name resolves to; with CONNECTION_TEST_ALLOWED_HOSTS,
 * only what is listed.
 */
import type { LookupAddress } from 'node:dns';
import express from 'express';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type HostLookup, checkTestTarget, connectionTestHandler } from '../../../src/admin/connection-test-route.ts';
import { ApiError, errorHandler } from '../../../src/api/errors.ts';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { pinnedLookup } from '../../../src/loadtest/index.ts';
import { listenHttp } from '../../helpers/http.ts';

/** A resolver with fixed answers; any other name is not found. */
const resolver =
  (answers: Record<string, string[]>): HostLookup =>
  async (hostname) => {
    const addresses = answers[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const DNS = resolver({
  'echo.example.com': ['93.184.216.34'],
  'rebound.example.com': ['93.184.216.34', '169.254.169.254'],
  'v6.example.com': ['fe80::1'],
  'mapped.example.com': ['::ffff:169.254.169.254'],
  'intranet.example.com': ['10.1.2.3'],
  localhost: ['127.0.0.1', '::1'],
});

async function verdict(url: string, allowed?: string[]): Promise<string> {
  try {
    await checkTestTarget(url, allowed, DNS);
    return 'allowed';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return `${error.status} ${error.code}: ${error.message}`;
  }
}

const LINK_LOCAL = '403 target_not_allowed: connection tests may not target link-local or cloud metadata addresses';
const METADATA = '403 target_not_allowed: connection tests may not target cloud metadata endpoints';
const NOT_LISTED = '403 target_not_allowed: connection tests may not target hosts outside CONNECTION_TEST_ALLOWED_HOSTS';

describe('connection test targets, by default', () => {
  it('allows loopback, private and public hosts', async () => {
    for (const url of ['ws://127.0.0.1:9/', 'ws://localhost:8080/ws', 'ws://[::1]:9/', 'wss://echo.example.com/', 'ws://intranet.example.com/', 'ws://10.0.0.5/']) {
      expect(await verdict(url), url).toBe('allowed');
    }
  });

  it('refuses link-local addresses, also when a name resolves to one', async () => {
    for (const url of ['ws://169.254.169.254/latest/meta-data/', 'ws://0xa9fea9fe/', 'ws://[fe80::1]:9/', 'ws://[::ffff:169.254.169.254]/', 'ws://[fd00:ec2::254]/', 'ws://100.100.100.200/']) {
      expect(await verdict(url), url).toBe(LINK_LOCAL);
    }
    for (const url of ['ws://rebound.example.com/', 'ws://v6.example.com/', 'ws://mapped.example.com/']) expect(await verdict(url), url).toBe(LINK_LOCAL);
  });

  it('refuses cloud metadata host names without resolving them', async () => {
    for (const url of ['ws://metadata.google.internal/computeMetadata/v1/', 'ws://METADATA.google.internal./', 'ws://metadata/', 'ws://instance-data.ec2.internal/']) {
      expect(await verdict(url), url).toBe(METADATA);
    }
  });

  it('says plainly when a name does not resolve', async () => {
    expect(await verdict('ws://nowhere.example.com/')).toBe('400 host_not_found: the host name could not be resolved');
  });
});

describe('connection test targets, with CONNECTION_TEST_ALLOWED_HOSTS', () => {
  const allowed = loadConfig({ CONNECTION_TEST_ALLOWED_HOSTS: ' Echo.Example.com, 10.0.0.0/8 ,::1' }).connectionTestAllowedHosts;

  it('parses the list, and no list when empty', () => {
    expect(allowed).toEqual(['echo.example.com', '10.0.0.0/8', '::1']);
    expect(loadConfig({}).connectionTestAllowedHosts).toBeUndefined();
    expect(loadConfig({ CONNECTION_TEST_ALLOWED_HOSTS: ' , ' }).connectionTestAllowedHosts).toBeUndefined();
    expect(() => loadConfig({ CONNECTION_TEST_ALLOWED_HOSTS: 'ok.example.com, 10.0.0.0/33, http://x' })).toThrow(ConfigError);
    expect(() => loadConfig({ CONNECTION_TEST_ALLOWED_HOSTS: '10.0.0.0/33, http://x' })).toThrow(
      'CONNECTION_TEST_ALLOWED_HOSTS="10.0.0.0/33, http://x": not host names, IPs or IP/prefix ranges: "10.0.0.0/33", "http://x"',
    );
  });

  it('allows listed names and addresses in listed ranges, nothing else', async () => {
    for (const url of ['wss://echo.example.com/', 'ws://intranet.example.com/', 'ws://10.200.0.1/', 'ws://[::1]:9/']) expect(await verdict(url, allowed), url).toBe('allowed');
    for (const url of ['ws://127.0.0.1:9/', 'ws://localhost/', 'ws://11.0.0.1/', 'ws://169.254.169.254/', 'ws://rebound.example.com/']) {
      expect(await verdict(url, allowed), url).toBe(NOT_LISTED);
    }
  });

  it('lets an operator list a link-local address on purpose', async () => {
    expect(await verdict('ws://169.254.10.10/', ['169.254.10.0/24'])).toBe('allowed');
  });
});

describe('connecting to the checked addresses (DNS rebinding)', () => {
  it('returns what it checked: the resolved addresses, nothing for IP literals and listed names', async () => {
    expect(await checkTestTarget('ws://localhost:9/', undefined, DNS)).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(await checkTestTarget('ws://127.0.0.1:9/', undefined, DNS)).toBeUndefined();
    expect(await checkTestTarget('wss://echo.example.com/', ['echo.example.com'], DNS)).toBeUndefined();
  });

  it('pins lookups to the checked addresses, by family', async () => {
    const lookup = pinnedLookup([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    const ask = (options: { family?: number; all?: boolean }) =>
      new Promise<{ error: string | null; address: string | LookupAddress[] }>((resolve) =>
        lookup('anything.example.com', options, (error, address) => resolve({ error: error ? `${error.code}: ${error.message}` : null, address })),
      );
    expect(await ask({ all: true })).toEqual({ error: null, address: [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }] });
    expect(await ask({ family: 6 })).toEqual({ error: null, address: '::1' });
    expect(await ask({})).toEqual({ error: null, address: '127.0.0.1' });
    const v4Only = pinnedLookup([{ address: '127.0.0.1', family: 4 }]);
    const refused = await new Promise<string>((resolve) => v4Only('x', { family: 6 }, (error) => resolve(`${error?.code}: ${error?.message}`)));
    expect(refused).toBe('ENOTFOUND: none of the checked addresses is IPv6');
  });

  it('runs basic, echo and pool tests against the address it checked, resolving the name once', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })));
    const port = (wss.address() as { port: number }).port;
    // rebind.test resolves nowhere (RFC 6761); only the first, checked answer can reach the server.
    const lookups: string[] = [];
    const lookup: HostLookup = async (hostname) => {
      lookups.push(hostname);
      return lookups.length === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }];
    };
    const app = express();
    app.post('/tests', express.json(), connectionTestHandler({ lookup }));
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = await listenHttp(app);
    try {
      const url = `ws://rebind.test:${port}/`;
      for (const body of [
        { kind: 'basic', url },
        { kind: 'echo', url, count: 3 },
        { kind: 'pool', url, connections: 4, workers: 2, hold_s: 0 },
      ]) {
        lookups.length = 0;
        const response = await fetch(`${server.url}/tests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const result = (await response.json()) as { ok: boolean; error?: string };
        expect([body.kind, response.status, result.ok, result.error]).toEqual([body.kind, 200, true, undefined]);
        expect(lookups).toEqual(['rebind.test']);
      }
    } finally {
      await server.close();
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});
