/** The request envelope: id, send time and trace context, as the server SDK's jsonEnvelope() reads them. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestTracker, type RequestTrackingOptions } from '../src/socket/requests.ts';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_732_406_400_000);
});
afterEach(() => vi.useRealTimers());

/** The envelope prepare() builds for `message`; the pending request is then cancelled (and rejects with AbortError). */
async function envelope(message: Record<string, unknown>, options?: RequestTrackingOptions): Promise<Record<string, unknown>> {
  const tracker = new RequestTracker(undefined, options);
  const { id, payload, response } = tracker.prepare(message);
  tracker.cancel();
  await expect(response).rejects.toMatchObject({ name: 'AbortError' });
  const parsed = JSON.parse(payload) as Record<string, unknown>;
  expect(parsed.id).toBe(id);
  return parsed;
}

describe('RequestTracker.prepare', () => {
  it('stamps the send time in epoch milliseconds under sentAt, next to the id', async () => {
    expect(await envelope({ type: 'quote', symbol: 'ACME' })).toEqual({ type: 'quote', symbol: 'ACME', id: expect.any(String), sentAt: 1_732_406_400_000 });
  });

  it('keeps a send time the app set, uses another field, or none', async () => {
    expect(await envelope({ type: 'quote', sentAt: 5 })).toMatchObject({ sentAt: 5 });
    const renamed = await envelope({ type: 'quote' }, { sentAtField: 'ts' });
    expect(renamed).toMatchObject({ ts: 1_732_406_400_000 });
    expect(renamed).not.toHaveProperty('sentAt');
    expect(Object.keys(await envelope({ type: 'quote' }, { sentAtField: false })).sort()).toEqual(['id', 'type']);
  });
});
