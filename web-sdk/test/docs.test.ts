/** docs/web-sdk.md's metric table is the catalogue's, with the Prometheus names it arrives under. */
import { describe, expect, it } from 'vitest';
import docs from '../../docs/web-sdk.md?raw';
import { prometheusName } from '../../src/catalogue.ts';
import { CLIENT_METRICS } from '../src/catalogue.ts';

describe('docs/web-sdk.md', () => {
  it('lists every client metric, in catalogue order, with its unit, Prometheus name and attributes', () => {
    const rows = docs.split('\n').filter((line) => /^\| `(websocket\.client|browser)\./.test(line));
    const expected = CLIENT_METRICS.map((m) => {
      const suffix = m.instrument === 'histogram' ? '_bucket/_sum/_count' : '';
      const attributes = m.attributes.length > 0 ? m.attributes.map((a) => `\`${a}\``).join(', ') : '—';
      return `| \`${m.name}\` | ${m.instrument} \`${m.unit}\` | \`${prometheusName(m)}${suffix}\` | ${attributes} |`;
    });
    expect(rows).toEqual(expected);
  });
});
