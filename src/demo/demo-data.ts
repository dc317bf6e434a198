/** Fixed data the demo app and its synthetic clients share. */

export const SYMBOLS = ['ACME', 'GLOBX', 'INITECH', 'UMBRL', 'WAYNE'] as const;

/** Valid demo tokens → user and tenant. */
export const DEMO_TOKENS = new Map<string, { name: string; tenant: string }>(
  Array.from({ length: 50 }, (_, i) => [`demo-token-${i}`, { name: `user-${i}`, tenant: i % 3 === 0 ? 'acme' : 'globex' }]),
);

/**
 * Where synthetic clients pretend to be: ISO country, share of clients, and
 * the one-way network delay they add, so geography and UX correlation have
 * something real to find.
 */
export const REGIONS = [
  { country: 'US', weight: 0.3, delayMs: 25 },
  { country: 'DE', weight: 0.2, delayMs: 35 },
  { country: 'GB', weight: 0.12, delayMs: 30 },
  { country: 'JP', weight: 0.1, delayMs: 70 },
  { country: 'BR', weight: 0.1, delayMs: 110 },
  { country: 'IN', weight: 0.1, delayMs: 140 },
  { country: 'AU', weight: 0.08, delayMs: 160 },
] as const;
