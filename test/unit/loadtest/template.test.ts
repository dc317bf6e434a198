import { describe, expect, it } from 'vitest';
import { compileTemplate, DEFAULT_TEMPLATE, MessageRenderer, parseCorrelationId } from '../../../src/loadtest/template.ts';

describe('message templates', () => {
  it('renders every placeholder, spaces inside the braces allowed', () => {
    const template = compileTemplate('{{ id }}|{{seq}}|{{conn}}|{{ts}}|{{payload}}|end');
    expect(template.correlates).toBe(true);
    const renderer = new MessageRenderer(template, 'ssabc123', 7, 5);
    expect(renderer.render(42, 1_700_000_000_123.9)).toBe('ssabc123.7.42|42|7|1700000000123|xxxxx|end');
  });

  it('renders the default template as JSON a server can parse', () => {
    const renderer = new MessageRenderer(compileTemplate(DEFAULT_TEMPLATE), 'sstag000', 3, 4);
    expect(JSON.parse(renderer.render(9, 1000))).toEqual({ type: 'loadtest', id: 'sstag000.3.9', seq: 9, sentAt: 1000, payload: 'xxxx' });
  });

  it('rejects unknown placeholders and notices a template without {{id}}', () => {
    expect(() => compileTemplate('{{nope}}')).toThrow('unknown placeholder {{nope}} in --message; known: {{id}}, {{seq}}, {{conn}}, {{ts}}, {{payload}}');
    expect(compileTemplate('ping {{seq}}').correlates).toBe(false);
    expect(compileTemplate('plain text').slots).toEqual([]);
  });

  it('finds the correlation id anywhere in a frame, and only ids of this run', () => {
    const tag = Buffer.from('ssabc123.');
    expect(parseCorrelationId(Buffer.from('{"echo":{"id":"ssabc123.12.3456"}}'), tag)).toEqual({ conn: 12, seq: 3456 });
    expect(parseCorrelationId(Buffer.from('ssabc123.0.0'), tag)).toEqual({ conn: 0, seq: 0 });
    expect(parseCorrelationId(Buffer.from('ssother1.12.3456'), tag)).toBeNull();
    expect(parseCorrelationId(Buffer.from('ssabc123.12'), tag)).toBeNull();
    expect(parseCorrelationId(Buffer.from('ssabc123..5'), tag)).toBeNull();
    expect(parseCorrelationId(Buffer.from('ssabc123.4.x'), tag)).toBeNull();
  });
});
