import { describe, expect, it } from 'vitest';
import { SESSION_ID_PATTERN } from '../src/report/schema.ts';
import { startSession } from '../src/session.ts';

/** sessionStorage's interface over a Map (what a tab keeps across reloads). */
function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  };
}

describe('startSession', () => {
  it('samples a session with probability sampleRate and keeps the decision for the tab', () => {
    const storage = memoryStorage();
    const first = startSession(0.25, storage, () => 0.2);
    expect(first.sampled).toBe(true);
    expect(first.id).toMatch(SESSION_ID_PATTERN);
    // A reload in the same tab: same id, same decision, whatever the dice say now.
    expect(startSession(0.25, storage, () => 0.9)).toEqual(first);
  });

  it('leaves a session out when the draw is at or above the rate', () => {
    expect(startSession(0.25, memoryStorage(), () => 0.25).sampled).toBe(false);
    expect(startSession(0, memoryStorage(), () => 0).sampled).toBe(false);
    expect(startSession(1, memoryStorage(), () => 0.999).sampled).toBe(true);
  });

  it('starts afresh when the stored value is not one of ours, and works without storage', () => {
    const storage = memoryStorage();
    storage.setItem('socketscope.session', 'tampered value');
    const session = startSession(1, storage);
    expect(session.id).toMatch(SESSION_ID_PATTERN);
    expect(storage.getItem('socketscope.session')).toBe(`${session.id}.1`);
    const blocked = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } } as unknown as Storage;
    expect(startSession(1, blocked).id).toMatch(SESSION_ID_PATTERN);
    expect(startSession(1, undefined).id).not.toBe(startSession(1, undefined).id);
  });
});
