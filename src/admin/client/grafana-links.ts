/** Links into Grafana (when the service knows its URL): the matching dashboard and Tempo traces, for the selected range. */
import type { TimeRange } from './date-range.ts';
import type { PageSettings } from './settings.ts';

export function dashboardUrl(settings: PageSettings, uid: string, range: TimeRange): string | null {
  if (!settings.grafanaUrl) return null;
  const params = new URLSearchParams({ orgId: '1', from: String(range.from.getTime()), to: String(range.to.getTime()) });
  return `${settings.grafanaUrl}/d/${encodeURIComponent(uid)}?${params}`;
}

/** Grafana Explore on the Tempo datasource with a TraceQL query for the server SDK's spans. */
export function tracesUrl(settings: PageSettings, range: TimeRange, traceql = '{ name = "websocket.handshake" || span.messaging.operation.type = "process" }'): string | null {
  if (!settings.grafanaUrl) return null;
  const panes = {
    a: {
      datasource: settings.tempoDatasourceUid,
      queries: [{ refId: 'A', datasource: { type: 'tempo', uid: settings.tempoDatasourceUid }, queryType: 'traceql', query: traceql, limit: 20 }],
      range: { from: String(range.from.getTime()), to: String(range.to.getTime()) },
    },
  };
  const params = new URLSearchParams({ schemaVersion: '1', panes: JSON.stringify(panes), orgId: '1' });
  return `${settings.grafanaUrl}/explore?${params}`;
}
