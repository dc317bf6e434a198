/** Key figures as cards: label, value, optional detail; data-metric names each for tests and links. */
import { type Child, h } from './dom.ts';

export interface Stat {
  id: string;
  label: string;
  value: string;
  detail?: Child;
  tone?: 'good' | 'warn' | 'bad';
}

export function statCard(stat: Stat): HTMLElement {
  return h(
    'div',
    { class: `stat${stat.tone ? ` tone-${stat.tone}` : ''}`, 'data-metric': stat.id },
    h('span', { class: 'stat-label' }, stat.label),
    h('span', { class: 'stat-value' }, stat.value),
    stat.detail ? h('span', { class: 'stat-detail' }, stat.detail) : null,
  );
}

export function statGrid(stats: Stat[], label?: string): HTMLElement {
  return h('div', { class: 'stat-grid', role: 'group', 'aria-label': label ?? null }, stats.map(statCard));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'block' }, h('h2', null, title), ...children);
}
