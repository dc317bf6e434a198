import { expect } from 'vitest';
import { UsageError } from '../../src/commands/load.ts';

/** The message of the UsageError `pending` rejects with; fails the test when it resolves or rejects otherwise. */
export async function usageErrorOf(pending: Promise<unknown>): Promise<string> {
  const error = await pending.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as Error).message;
}
