import { describe, expect, it } from 'vitest';
import { isFailedConclusion } from '../../src/sessions/ci-conclusions.js';

describe('isFailedConclusion', () => {
  it.each([
    ['failure', true],
    ['timed_out', true],
    ['startup_failure', true],
    ['action_required', true],
    ['cancelled', true],
    ['error', true],
    ['success', false],
    ['neutral', false],
    ['skipped', false],
    ['stale', false],
    ['pending', false],
    [null, false],
    [undefined, false],
  ])('%s counts as failed: %s', (value, failed) => {
    expect(isFailedConclusion(value)).toBe(failed);
  });
});
