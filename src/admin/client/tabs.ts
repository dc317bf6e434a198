/**
 * An accessible tab set (WAI-ARIA tabs pattern): real buttons with
 * role="tab", arrow keys / Home / End move between them, only the selected
 * tab is in the tab order, and the selection lives in the URL hash.
 */
import { h } from './dom.ts';

export interface TabSpec {
  id: string;
  label: string;
}

export interface Tabs {
  list: HTMLElement;
  panels: Map<string, HTMLElement>;
  selected(): string;
  select(id: string, focus?: boolean): void;
}

export function createTabs(specs: readonly TabSpec[], onSelect: (id: string) => void): Tabs {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('tab');
  let current = specs.some((s) => s.id === fromHash) ? (fromHash as string) : (specs[0]?.id ?? '');
  const buttons = new Map<string, HTMLButtonElement>();
  const panels = new Map<string, HTMLElement>();
  for (const spec of specs) {
    buttons.set(
      spec.id,
      h('button', { type: 'button', role: 'tab', id: `tab-${spec.id}`, 'aria-controls': `panel-${spec.id}`, class: 'tab', onclick: () => select(spec.id) }, spec.label),
    );
    panels.set(spec.id, h('section', { role: 'tabpanel', id: `panel-${spec.id}`, 'aria-labelledby': `tab-${spec.id}`, tabindex: 0, class: 'panel' }));
  }
  const list = h('div', { role: 'tablist', 'aria-label': 'Views', class: 'tablist' }, [...buttons.values()]);
  list.addEventListener('keydown', (event) => {
    const ids = specs.map((s) => s.id);
    const at = ids.indexOf(current);
    const next =
      event.key === 'ArrowRight' ? ids[(at + 1) % ids.length] : event.key === 'ArrowLeft' ? ids[(at - 1 + ids.length) % ids.length] : event.key === 'Home' ? ids[0] : event.key === 'End' ? ids[ids.length - 1] : undefined;
    if (next === undefined) return;
    event.preventDefault();
    select(next, true);
  });

  function paint(): void {
    for (const [id, button] of buttons) {
      const on = id === current;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      const panel = panels.get(id);
      if (panel) panel.hidden = !on;
    }
  }
  function select(id: string, focus = false): void {
    if (!buttons.has(id)) return;
    current = id;
    paint();
    if (focus) buttons.get(id)?.focus();
    const params = new URLSearchParams(location.hash.slice(1));
    params.set('tab', id);
    history.replaceState(null, '', `#${params.toString()}`);
    onSelect(id);
  }
  paint();
  return { list, panels, selected: () => current, select };
}
