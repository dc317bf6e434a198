import { afterEach, describe, expect, it } from 'vitest';
import { runConnectionTest } from '../../../src/loadtest/index.ts';
import { startWsServer, type TestWsServer } from './servers.ts';

let server: TestWsServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('connection tests (library API)', () => {
  it('basic: connects, pings, closes with 1000, and reports a refused handshake as a failed result', async () => {
    server = await startWsServer({ kind: 'echo' }, { token: 'tok' });
    const ok = await runConnectionTest('basic', { url: server.url, token: 'tok', subprotocols: ['chat.v1'] });
    expect(ok).toMatchObject({ kind: 'basic', ok: true, protocol: 'chat.v1', close: { code: 1000, reason: 'socketscope test done' } });
    expect(ok.connect_ms).toBeGreaterThan(0);
    expect(ok.ping_ms).toBeGreaterThan(0);
    expect(ok.error).toBeUndefined();

    const refused = await runConnectionTest('basic', { url: server.url });
    expect(refused).toMatchObject({ kind: 'basic', ok: false, connect_ms: null, close: null });
    expect(refused.error).toBe('could not connect (http-401): Unexpected server response: 401');
  });

  it('echo: matches every echo by id and checks it byte for byte', async () => {
    server = await startWsServer({ kind: 'echo' });
    const result = await runConnectionTest('echo', { url: server.url, count: 12, payloadBytes: 256 });
    expect(result).toMatchObject({ kind: 'echo', ok: true, sent: 12, received: 12, identical: 12, lost: 0 });
    expect(result.rtt_ms.count).toBe(12);
    expect(result.rtt_ms.p50).toBeGreaterThan(0);
    expect(result.rtt_ms.max).toBeGreaterThanOrEqual(result.rtt_ms.p99);
  });

  it('echo: counts the messages a server drops as lost', async () => {
    server = await startWsServer({ kind: 'drop', dropEvery: 3 });
    const result = await runConnectionTest('echo', { url: server.url, count: 6, timeoutMs: 150 });
    expect(result).toMatchObject({ ok: false, sent: 6, received: 4, lost: 2, identical: 4 });
    expect(result.error).toBe('2 of 6 messages got no echo within 150 ms');
  });

  it('echo: stops after 3 consecutive timeouts and reports the rest as not attempted', async () => {
    // A server that never echoes: the defaults would wait 20 x 5 s.
    server = await startWsServer({ kind: 'silent' });
    const result = await runConnectionTest('echo', { url: server.url, count: 20, timeoutMs: 50 });
    expect(result).toMatchObject({ kind: 'echo', ok: false, sent: 3, received: 0, lost: 3, identical: 0, not_attempted: 17 });
    expect(result.rtt_ms.count).toBe(0);
    expect(result.error).toBe('3 of 20 messages got no echo within 50 ms; stopped after 3 consecutive timeouts, 17 not attempted');
    // Timeouts that are not consecutive do not stop it (every 2nd dropped).
    await server.close();
    server = await startWsServer({ kind: 'drop', dropEvery: 2 });
    const lossy = await runConnectionTest('echo', { url: server.url, count: 8, timeoutMs: 50 });
    expect(lossy).toMatchObject({ sent: 8, received: 4, lost: 4, not_attempted: 0 });
    expect(lossy.error).toBe('4 of 8 messages got no echo within 50 ms');
  });

  it('pool: spreads connections evenly over worker threads and reports failures per class', async () => {
    server = await startWsServer({ kind: 'echo' }, { token: 'tok' });
    const ok = await runConnectionTest('pool', { url: server.url, token: 'tok', connections: 9, workers: 3, holdS: 0.2 });
    expect(ok).toMatchObject({ kind: 'pool', ok: true, connections: { target: 9, opened: 9, failed: 0, dropped: 0 }, errors: {} });
    expect(ok.workers).toEqual([
      { worker: 0, connections: 3, opened: 3, failed: 0 },
      { worker: 1, connections: 3, opened: 3, failed: 0 },
      { worker: 2, connections: 3, opened: 3, failed: 0 },
    ]);
    expect(ok.connect_ms.count).toBe(9);

    const refused = await runConnectionTest('pool', { url: server.url, connections: 4, workers: 2, holdS: 0.1 });
    expect(refused).toMatchObject({ ok: false, connections: { target: 4, opened: 0, failed: 4, dropped: 0 }, errors: { 'connect:http-401': 4 } });
    expect(refused.error).toBe('4 of 4 connections failed and 0 dropped');
  });

  it('rejects with the abort reason when the signal fires, and throws on invalid options', async () => {
    server = await startWsServer({ kind: 'silent' });
    const controller = new AbortController();
    const pending = runConnectionTest('echo', { url: server.url, count: 3, timeoutMs: 30_000, signal: controller.signal });
    const reason = new Error('stop');
    setImmediate(() => controller.abort(reason));
    await expect(pending).rejects.toBe(reason);

    await expect(runConnectionTest('echo', { url: 'http://127.0.0.1:1/' })).rejects.toThrow('invalid test options: url: must be a ws:// or wss:// URL');
    await expect(runConnectionTest('echo', { url: server.url, message: 'no id here' })).rejects.toThrow('needs {{id}}');
    await expect(runConnectionTest('basic', { url: server.url, headers: { 'bad header': 'x' } })).rejects.toThrow(
      'invalid test options: headers: "bad header" is not a valid header name',
    );
    await expect(runConnectionTest('basic', { url: server.url, subprotocols: ['a', 'a'] })).rejects.toThrow('invalid test options: subprotocols: "a" is given twice');
    await expect(runConnectionTest('pool', { url: `${server.url}#x` })).rejects.toThrow('invalid test options: url: must not contain a fragment (#…)');
    await expect(runConnectionTest('echo', { url: server.url, token: 't', headers: { authorization: 'x' } })).rejects.toThrow(
      'invalid test options: token sets the Authorization header, so it cannot be combined with headers.authorization',
    );
    await expect(runConnectionTest('pool', { url: server.url, holdS: 86_401 })).rejects.toThrow('invalid test options: holdS: at most 86400 s (24 h)');
  });
});
