/**
 * The request log: one entry per request with method, URL, status and
 * duration at the level its outcome gets, nothing for ignored paths or
 * disabled levels, and an entry for a request the client aborted.
 */
import { request } from 'node:http';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestLog } from '../../../src/api/request-log.ts';
import { waitFor } from '../../../src/stack/index.ts';
import { listenHttp, type TestHttpServer } from '../../helpers/http.ts';

interface Entry {
  level: number;
  msg: string;
  req: { id: number; method: string; url: string };
  res: { statusCode: number };
  responseTime: number;
}

const entries: Entry[] = [];
let server: TestHttpServer;
let stall: (() => void) | undefined;

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => void entries.push(JSON.parse(line) as Entry) });
  const app = express();
  app.use(
    requestLog(logger, {
      level: (req, res) => (res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : req.method === 'POST' ? 'debug' : 'info'),
      ignore: (req) => req.url === '/metrics',
    }),
  );
  app.get('/ok', (_req, res) => void res.json({ ok: true }));
  app.post('/quiet', (_req, res) => void res.status(202).json({}));
  app.get('/broken', (_req, res) => void res.status(500).json({}));
  app.get('/metrics', (_req, res) => void res.send('x 1\n'));
  app.get('/stall', (_req, res) => {
    stall = () => res.end();
  });
  server = await listenHttp(app);
});

afterAll(async () => {
  await server?.close();
});

describe('requestLog', () => {
  it('logs each request once at its level, with method, URL and status', async () => {
    expect((await fetch(`${server.url}/ok?x=1`)).status).toBe(200);
    expect((await fetch(`${server.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${server.url}/broken`)).status).toBe(500);
    expect((await fetch(`${server.url}/quiet`, { method: 'POST' })).status).toBe(202);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    await waitFor('three entries', async () => entries.length >= 3, { timeoutMs: 5000, intervalMs: 10 });
    expect(entries.map((e) => ({ level: e.level, msg: e.msg, method: e.req.method, url: e.req.url, status: e.res.statusCode }))).toEqual([
      { level: 30, msg: 'request completed', method: 'GET', url: '/ok?x=1', status: 200 },
      { level: 40, msg: 'request completed', method: 'GET', url: '/nowhere', status: 404 },
      { level: 50, msg: 'request completed', method: 'GET', url: '/broken', status: 500 },
    ]);
    expect(entries.map((e) => e.req.id)).toEqual([1, 2, 3]);
    for (const e of entries) expect(e.responseTime).toBeGreaterThanOrEqual(0);
    // No addresses or headers.
    expect(Object.keys(entries[0]!.req).sort()).toEqual(['id', 'method', 'url']);
  });

  it('logs a request the client aborted', async () => {
    entries.length = 0;
    const req = request(`${server.url}/stall`);
    req.on('error', () => undefined);
    req.end();
    await waitFor('the stalled request', async () => stall !== undefined, { timeoutMs: 5000, intervalMs: 10 });
    req.destroy();
    await waitFor('the aborted entry', async () => entries.length === 1, { timeoutMs: 5000, intervalMs: 10 });
    expect(entries[0]).toMatchObject({ level: 40, msg: 'request aborted', req: { method: 'GET', url: '/stall' } });
    stall?.();
  });
});
