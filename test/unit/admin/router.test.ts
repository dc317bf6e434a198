/**
 * The admin router's own guards, without the browser: a missing build is a
 * clear error, every /admin/api endpoint needs the token, the Testing
 * endpoint accepts only ws:// and wss:// URLs and one test per client, and
 * the live stream says plainly when Prometheus is not configured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminAssetsMissingError, loadAssetManifest } from '../../../src/admin/assets.ts';
import { type AdminRouterServer, startAdminRouter } from '../../helpers/admin-router.ts';

const TOKEN = 'router-unit-test-token-0123456789';
let server: AdminRouterServer;

beforeAll(async () => {
  server = await startAdminRouter(TOKEN);
});

afterAll(async () => {
  await server?.close();
});

const call = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
  fetch(`${server.url}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });

describe('admin router', () => {
  it('names the build command when the assets were not built', () => {
    const empty = mkdtempSync(join(tmpdir(), 'admin-dist-'));
    try {
      expect(() => loadAssetManifest(`${empty}/`)).toThrow(AdminAssetsMissingError);
      expect(() => loadAssetManifest(`${empty}/`)).toThrow(/src\/admin\/build\.ts/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('serves the pages without a token and with a strict Content-Security-Policy', async () => {
    const response = await call('/admin/websocket-client-metrics', {}, null);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toMatch(/<script type="module" src="\/admin\/assets\/websocket-client-metrics-[A-Z0-9]+\.js"><\/script>/);
  });

  it.each(['/admin/api/session', '/admin/api/live', '/admin/api/performance', '/admin/api/ux-correlation/points', '/admin/api/anomalies/1/context'])('%s answers 401 without the token', async (path) => {
    const response = await call(path, {}, null);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect((await call(path, {}, 'wrong-token-wrong-token')).status).toBe(401);
  });

  it('runs connection tests only against ws:// and wss:// URLs', async () => {
    for (const url of ['http://127.0.0.1:9/', 'file:///etc/passwd', 'not a url']) {
      const response = await call('/admin/api/connection-tests', { method: 'POST', body: JSON.stringify({ kind: 'echo', url }) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    const tooMany = await call('/admin/api/connection-tests', { method: 'POST', body: JSON.stringify({ kind: 'pool', url: 'ws://127.0.0.1:9/', connections: 100_000 }) });
    expect(tooMany.status).toBe(400);
  });

  it('reports a refused connection as a failed basic test', async () => {
    const response = await call('/admin/api/connection-tests', { method: 'POST', body: JSON.stringify({ kind: 'basic', url: 'ws://127.0.0.1:9/' }) });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { kind: string; ok: boolean; error: string };
    expect([result.kind, result.ok]).toEqual(['basic', false]);
    // The error class only: raw error text may carry what an internal host answered.
    expect(result.error).toBe('could not connect (ECONNREFUSED)');
  });

  it('refuses link-local and cloud metadata targets by default', async () => {
    for (const [url, message] of [
      ['ws://169.254.169.254/latest/meta-data/', 'connection tests may not target link-local or cloud metadata addresses'],
      ['ws://[fe80::1]:9/', 'connection tests may not target link-local or cloud metadata addresses'],
      ['ws://metadata.google.internal/', 'connection tests may not target cloud metadata endpoints'],
    ]) {
      const response = await call('/admin/api/connection-tests', { method: 'POST', body: JSON.stringify({ kind: 'pool', url, connections: 500 }) });
      expect(response.status, url).toBe(403);
      expect(((await response.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'target_not_allowed', message });
    }
  });

  it('says on the live stream that Prometheus is not configured', async () => {
    const controller = new AbortController();
    const response = await call('/admin/api/live', { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const more = async () => {
      text += decoder.decode((await reader.read()).value ?? new Uint8Array(), { stream: true });
    };
    while (!text.includes('event: stats')) await more();
    while (!text.slice(text.indexOf('event: stats')).includes('\n\n')) await more();
    controller.abort();
    const data = /event: stats\ndata: (.*)\n/.exec(text)?.[1] ?? '{}';
    expect((JSON.parse(data) as { error: { code: string } }).error.code).toBe('prometheus_not_configured');
  });
});
