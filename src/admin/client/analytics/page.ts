/** /admin/websocket-analytics: the server side, live and over time, its alerts, and connection tests. */
import '../styles.css';
import { connectLive, type LiveClient } from '../live-client.ts';
import { startPage } from '../shell.ts';
import { alertsTab } from './alerts-tab.ts';
import { overviewTab } from './overview-tab.ts';
import { performanceTab } from './performance-tab.ts';
import { testingTab } from './testing-tab.ts';
import { trendsTab } from './trends-tab.ts';

let live: LiveClient | undefined;
const liveProxy: LiveClient = {
  onSnapshot: (listener) => (live as LiveClient).onSnapshot(listener),
  onStatus: (listener) => (live as LiveClient).onStatus(listener),
  get last() {
    return live?.last ?? null;
  },
  get status() {
    return live?.status ?? { state: 'connecting' };
  },
  stop: () => live?.stop(),
};

startPage({
  title: 'WebSocket analytics',
  description: 'Server connections, messages, errors and latency from Prometheus; alerts from Alertmanager; connection tests.',
  dashboardUid: (settings) => settings.dashboards.server,
  tabs: () => [overviewTab(liveProxy), performanceTab(liveProxy), trendsTab, alertsTab, testingTab],
  onSignedIn: () => {
    live?.stop();
    live = connectLive();
  },
  onSignedOut: () => {
    live?.stop();
    live = undefined;
  },
});
