/** The settings the server put into the page (src/admin/page-shell.ts). */
import type { PageSettings } from '../page-shell.ts';

export type { PageSettings };

export function readSettings(): PageSettings {
  const el = document.getElementById('socketscope-settings');
  if (!el?.textContent) throw new Error('the page has no settings block');
  return JSON.parse(el.textContent) as PageSettings;
}
