/** /admin/websocket-client-metrics: what browsers report: summary, geography, anomalies, UX correlation. */
import '../styles.css';
import { startPage } from '../shell.ts';
import { anomaliesTab } from './anomalies-tab.ts';
import { geographicTab } from './geographic-tab.ts';
import { summaryTab } from './summary-tab.ts';
import { uxTab } from './ux-tab.ts';

startPage({
  title: 'WebSocket client metrics',
  description: 'What browsers report through the web SDK: connection stability, latency, geography, anomalies and the link to user experience.',
  dashboardUid: (settings) => settings.dashboards.clients,
  tabs: () => [summaryTab, geographicTab, anomaliesTab, uxTab],
});
