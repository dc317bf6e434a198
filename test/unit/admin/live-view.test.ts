/**
 * The live cards and status line of the analytics page
 * (src/admin/client/analytics/live-view.ts) with a DOM-less stand-in for
 * `document` and a fake live client: the listeners of a render are removed
 * when the tab's signal aborts (Refresh, a range change, sign-out), also
 * when that happens before anything could see the render in the page; the
 * status region speaks on a change of state only, never per update; the
 * cards say when their figures are stale.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveClient, LiveSnapshot, LiveStatus } from '../../../src/admin/client/live-client.ts';

class FakeText {
  constructor(public textContent: string) {}
}

class FakeElement {
  readonly attributes = new Map<string, string>();
  readonly dataset: Record<string, string> = {};
  children: Array<FakeElement | FakeText> = [];
  constructor(readonly tagName: string) {}
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
    if (name.startsWith('data-')) this.dataset[name.slice(5).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  addEventListener(): void {}
  appendChild<T extends FakeElement | FakeText>(child: T): T {
    this.children.push(child);
    return child;
  }
  replaceChildren(...children: Array<FakeElement | FakeText>): void {
    this.children = children;
  }
  get textContent(): string {
    return this.children.map((c) => c.textContent).join('');
  }
  set textContent(text: string) {
    this.children = [new FakeText(text)];
  }
  find(predicate: (el: FakeElement) => boolean): FakeElement | undefined {
    for (const child of this.children) {
      if (!(child instanceof FakeElement)) continue;
      if (predicate(child)) return child;
      const found = child.find(predicate);
      if (found) return found;
    }
    return undefined;
  }
}

/** A live client whose listeners the test counts and calls. */
function fakeLive() {
  const snapshots = new Set<(s: LiveSnapshot) => void>();
  const statuses = new Set<(s: LiveStatus) => void>();
  let last: LiveSnapshot | null = null;
  let status: LiveStatus = { state: 'connecting' };
  const client: LiveClient = {
    onSnapshot(listener) {
      snapshots.add(listener);
      return () => snapshots.delete(listener);
    },
    onStatus(listener) {
      statuses.add(listener);
      return () => statuses.delete(listener);
    },
    get last() {
      return last;
    },
    get status() {
      return status;
    },
    stop() {},
  };
  return {
    client,
    listeners: () => snapshots.size + statuses.size,
    snapshot(at: string, values: Record<string, number | null>, error: LiveSnapshot['error'] = null) {
      const s = { at, values, error };
      last = s;
      status = { state: 'live', at };
      statuses.forEach((l) => l(status));
      snapshots.forEach((l) => l(s));
    },
    status(next: LiveStatus) {
      status = next;
      statuses.forEach((l) => l(next));
    },
  };
}

let view: typeof import('../../../src/admin/client/analytics/live-view.ts');
const globals = globalThis as unknown as { document?: unknown };

beforeAll(async () => {
  // The status line's times, as the pages format them, in a known zone.
  process.env.TZ = 'UTC';
  globals.document = { createElement: (tag: string) => new FakeElement(tag), createTextNode: (text: string) => new FakeText(text) };
  view = await import('../../../src/admin/client/analytics/live-view.ts');
});

afterAll(() => {
  delete globals.document;
});

const CARDS = [{ id: 'active_connections', label: 'Active connections', unit: '{connection}' }];

/** One render of the Overview's live parts, as the tab does it. */
function render(live: LiveClient, signal: AbortSignal) {
  return { status: view.liveStatus(live, signal) as unknown as FakeElement, cards: view.liveCards(live, CARDS, 'Live', signal) as unknown as FakeElement };
}

describe('live view listeners', () => {
  it('are removed when the tab signal aborts, however quickly the tab was rendered again', () => {
    const live = fakeLive();
    const perRender = (() => {
      const c = new AbortController();
      render(live.client, c.signal);
      const n = live.listeners();
      c.abort();
      return n;
    })();
    expect(perRender).toBe(4);
    expect(live.listeners()).toBe(0);
    // Refresh pressed five times in a row, each before the stream said anything.
    let controller = new AbortController();
    for (let i = 0; i < 5; i++) {
      controller.abort();
      controller = new AbortController();
      render(live.client, controller.signal);
    }
    expect(live.listeners()).toBe(perRender);
    controller.abort();
    expect(live.listeners()).toBe(0);
  });

  it('are never added for a render whose signal already aborted', () => {
    const live = fakeLive();
    const controller = new AbortController();
    controller.abort();
    render(live.client, controller.signal);
    expect(live.listeners()).toBe(0);
  });
});

describe('live status', () => {
  it('shows each update but announces only changes of state', () => {
    const live = fakeLive();
    const controller = new AbortController();
    const { status, cards } = render(live.client, controller.signal);
    const announce = status.find((el) => el.getAttribute('role') === 'status') as FakeElement;
    expect(status.getAttribute('role')).toBeNull();
    expect([status.dataset.live, announce.textContent]).toEqual(['connecting', '']);

    live.snapshot('2026-03-01T10:42:13Z', { active_connections: 42 });
    live.snapshot('2026-03-01T10:42:18Z', { active_connections: 43 });
    expect(status.dataset.live).toBe('live');
    expect(status.textContent).toBe('Live · updated 1 Mar 2026, 10:42:18');
    // The first connection and every update: nothing spoken.
    expect(announce.textContent).toBe('');
    expect(cards.dataset.stale).toBe('false');
    expect(cards.textContent).toBe('Active connections43');

    live.status({ state: 'retrying', reason: 'nothing received for 31 s', inMs: 5_000 });
    expect(status.dataset.live).toBe('retrying');
    expect(status.textContent).toBe(
      'Live stream interrupted (nothing received for 31 s); retrying in 5 s · figures from 1 Mar 2026, 10:42:18Live stream interrupted; the figures shown are from 1 Mar 2026, 10:42:18.',
    );
    expect(announce.textContent).toBe('Live stream interrupted; the figures shown are from 1 Mar 2026, 10:42:18.');
    expect(cards.dataset.stale).toBe('true');
    live.status({ state: 'connecting' });
    expect(cards.dataset.stale).toBe('true');
    expect(status.dataset.live).toBe('retrying');

    live.snapshot('2026-03-01T10:43:00Z', { active_connections: 44 });
    expect(announce.textContent).toBe('Live statistics are updating again.');
    expect(cards.dataset.stale).toBe('false');
    live.snapshot('2026-03-01T10:43:05Z', { active_connections: 45 });
    expect(announce.textContent).toBe('Live statistics are updating again.');
    controller.abort();
  });

  it('renders the current state of a stream already interrupted, without announcing it', () => {
    const live = fakeLive();
    live.snapshot('2026-03-01T10:42:13Z', { active_connections: 42 });
    live.status({ state: 'retrying', reason: 'the live stream ended', inMs: 2_000 });
    const controller = new AbortController();
    const { status, cards } = render(live.client, controller.signal);
    const announce = status.find((el) => el.getAttribute('role') === 'status') as FakeElement;
    expect(status.dataset.live).toBe('retrying');
    expect(announce.textContent).toBe('');
    expect(cards.dataset.stale).toBe('true');
    expect(cards.textContent).toBe('Active connections42');
    controller.abort();
  });

  it('says why there is no live data, once', () => {
    const live = fakeLive();
    const controller = new AbortController();
    const { status } = render(live.client, controller.signal);
    const announce = status.find((el) => el.getAttribute('role') === 'status') as FakeElement;
    const error = { code: 'prometheus_not_configured', message: 'live statistics need Prometheus: set PROMETHEUS_URL' };
    live.snapshot('2026-03-01T10:42:13Z', { active_connections: null }, error);
    expect(status.dataset.live).toBe('error');
    expect(announce.textContent).toBe('No live data: live statistics need Prometheus: set PROMETHEUS_URL');
    announce.textContent = '';
    live.snapshot('2026-03-01T10:42:18Z', { active_connections: null }, error);
    expect(announce.textContent).toBe('');
    controller.abort();
  });
});
