/**
 * Regressions found by the reliability suite (issue 11), pinned at the unit level.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/core/backoff.js';
import { InvalidOptionsError } from '../../src/core/errors.js';
import { createClient } from '../../src/node.js';

describe('backoffDelay with baseDelayMs 0 (found by the reconnect soak)', () => {
  it('stays 0 at any attempt: 0 * 2^1024 is NaN, which used to fall back to maxDelayMs', () => {
    const policy = { baseDelayMs: 0, factor: 2, maxDelayMs: 30_000 };
    for (const attempt of [1, 2, 1_024, 1_025, 5_000, 1e9]) {
      expect(backoffDelay({ ...policy, jitter: 'none' }, attempt, () => 0.5)).toBe(0);
      expect(backoffDelay({ ...policy, jitter: 'full' }, attempt, () => 0.999)).toBe(0);
    }
  });
});

describe('InvalidOptionsError for a bad url (found by the security suite)', () => {
  it('keeps no credentials or query values in `problems` (what console.error(err) and JSON logs print)', () => {
    let error: unknown;
    try {
      createClient({ url: 'https://user:p4ss@host.test/feed?token=SECRET#frag' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const problems = (error as InvalidOptionsError).problems;
    expect(JSON.stringify(problems)).not.toMatch(/p4ss|SECRET|frag/);
    expect(problems[0]!.value).toBe('https://***@host.test/feed?token=***');
  });
});
