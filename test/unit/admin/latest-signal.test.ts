/**
 * latestSignal (src/admin/client/http.ts): the signal of each "Show series"
 * or alerts reload aborts the one before it, so only the last answer is
 * drawn, and every one aborts with the tab's signal; a superseded one leaves
 * no listener behind on the tab's signal.
 */
import { describe, expect, it } from 'vitest';
import { latestSignal } from '../../../src/admin/client/http.ts';

/** An AbortSignal that counts its abort listeners. */
function countingSignal(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController();
  let count = 0;
  const add = controller.signal.addEventListener.bind(controller.signal);
  const remove = controller.signal.removeEventListener.bind(controller.signal);
  controller.signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: AddEventListenerOptions) => {
    if (type === 'abort') count++;
    add(type, listener, options);
  }) as AbortSignal['addEventListener'];
  controller.signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: EventListenerOptions) => {
    if (type === 'abort') count--;
    remove(type, listener, options);
  }) as AbortSignal['removeEventListener'];
  return { controller, listeners: () => count };
}

describe('latestSignal', () => {
  it('aborts the previous load when the next starts, so a slow first answer cannot land last', async () => {
    const tab = new AbortController();
    const next = latestSignal(tab.signal);
    const drawn: string[] = [];
    const answers = new Map<string, () => void>();
    // The same rule as panel-state's load(): an aborted load does not draw.
    const show = async (id: string): Promise<void> => {
      const signal = next();
      await new Promise<void>((resolve) => answers.set(id, resolve));
      if (!signal.aborted) drawn.push(id);
    };
    const a = show('A');
    const b = show('B');
    // B's answer first, then A's.
    answers.get('B')?.();
    await b;
    answers.get('A')?.();
    await a;
    expect(drawn).toEqual(['B']);
  });

  it('aborts with the tab, and starts aborted once the tab was', () => {
    const tab = new AbortController();
    const next = latestSignal(tab.signal);
    const first = next();
    const second = next();
    expect([first.aborted, second.aborted]).toEqual([true, false]);
    tab.abort();
    expect(second.aborted).toBe(true);
    expect(next().aborted).toBe(true);
  });

  it('leaves one listener on the tab signal however often it is called', () => {
    const tab = countingSignal();
    const next = latestSignal(tab.controller.signal);
    for (let i = 0; i < 50; i++) next();
    expect(tab.listeners()).toBe(1);
  });
});
