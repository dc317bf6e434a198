import { describe, expect, it } from 'vitest';
import { MessageQueue } from '../src/queue.ts';

describe('MessageQueue', () => {
  it('refuses a message beyond the count limit and keeps the earlier ones', () => {
    const queue = new MessageQueue<string>({ maxMessages: 2, maxBytes: 1000, maxAgeMs: 1000 });
    expect([queue.offer('a', 1, 0), queue.offer('b', 1, 0), queue.offer('c', 1, 0)]).toEqual([true, true, false]);
    expect(queue.length).toBe(2);
    expect(queue.drain(0)).toEqual({ fresh: ['a', 'b'], expired: 0 });
  });

  it('refuses a message beyond the byte limit, then accepts a smaller one', () => {
    const queue = new MessageQueue<string>({ maxMessages: 10, maxBytes: 10, maxAgeMs: 1000 });
    expect([queue.offer('six', 6, 0), queue.offer('five', 5, 0), queue.offer('four', 4, 0)]).toEqual([true, false, true]);
    expect(queue.byteLength).toBe(10);
  });

  it('discards messages older than maxAgeMs on drain, in order', () => {
    const queue = new MessageQueue<string>({ maxMessages: 10, maxBytes: 100, maxAgeMs: 1000 });
    queue.offer('old', 1, 0);
    queue.offer('edge', 1, 500);
    queue.offer('new', 1, 1000);
    expect(queue.drain(1500)).toEqual({ fresh: ['edge', 'new'], expired: 1 });
    expect([queue.length, queue.byteLength]).toEqual([0, 0]);
  });

  it('clear() reports how many it discarded', () => {
    const queue = new MessageQueue<string>({ maxMessages: 10, maxBytes: 100, maxAgeMs: 1000 });
    queue.offer('a', 3, 0);
    queue.offer('b', 3, 0);
    expect(queue.clear()).toBe(2);
    expect(queue.clear()).toBe(0);
  });
});
