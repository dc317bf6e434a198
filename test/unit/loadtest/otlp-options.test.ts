import { describe, expect, it } from 'vitest';
import { otlpEndpoint } from '../../../src/commands/load.ts';
import { targetAttributes } from '../../../src/loadtest/otlp-export.ts';

describe('socketscope load --otlp options', () => {
  it('sends to the given endpoint, else OTEL_EXPORTER_OTLP_ENDPOINT, else the local collector; nothing without the flag', () => {
    expect(otlpEndpoint(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeNull();
    expect(otlpEndpoint('http://10.0.0.5:4318', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://10.0.0.5:4318');
    expect(otlpEndpoint(true, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318');
    expect(otlpEndpoint(true, {})).toBe('http://127.0.0.1:4318');
  });

  it('labels the series with the target server address and port, default ports filled in', () => {
    expect(targetAttributes('ws://127.0.0.1:8080/ws?token=secret')).toEqual({ 'server.address': '127.0.0.1', 'server.port': 8080 });
    expect(targetAttributes('ws://example.com/ws')).toEqual({ 'server.address': 'example.com', 'server.port': 80 });
    expect(targetAttributes('wss://example.com/ws')).toEqual({ 'server.address': 'example.com', 'server.port': 443 });
    expect(targetAttributes('ws://[::1]:9000/')).toEqual({ 'server.address': '::1', 'server.port': 9000 });
  });
});
