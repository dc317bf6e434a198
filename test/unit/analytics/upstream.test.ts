/** An upstream URL's userinfo becomes Basic authentication and leaves the URL (fetch refuses it, and the URL shows up in errors). */
import { describe, expect, it } from 'vitest';
import { AlertmanagerClient } from '../../../src/analytics/alertmanager.ts';
import { upstream } from '../../../src/analytics/http-json.ts';
import { PrometheusClient } from '../../../src/analytics/prometheus.ts';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;

describe('upstream', () => {
  it('turns user:password@ into a Basic Authorization header, decoded, and strips it from the URL', () => {
    expect(upstream('https://tenant%40corp:p%3Ass%20w@mimir.example/prometheus/', { 'x-scope-orgid': 'tenant-1' })).toEqual({
      baseUrl: 'https://mimir.example/prometheus',
      headers: { 'x-scope-orgid': 'tenant-1', authorization: basic('tenant@corp:p:ss w') },
    });
    expect(upstream('http://user@prometheus:9090')).toEqual({ baseUrl: 'http://prometheus:9090', headers: { authorization: basic('user:') } });
  });

  it('leaves a URL without userinfo and the headers as they are', () => {
    expect(upstream('http://prometheus:9090/', { authorization: 'Bearer t' })).toEqual({ baseUrl: 'http://prometheus:9090', headers: { authorization: 'Bearer t' } });
  });

  it('is what the clients show as their base URL', () => {
    expect(new PrometheusClient('http://u:secret@prometheus:9090', 1000).baseUrl).toBe('http://prometheus:9090');
    expect(new AlertmanagerClient('http://u:secret@alertmanager:9093/', 1000).baseUrl).toBe('http://alertmanager:9093');
  });
});
