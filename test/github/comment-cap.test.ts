import { describe, expect, it } from 'vitest';
import { type CapCandidate, withinCap } from '../../src/github/comment-cap.js';

/** A comment written as `w:text` (a writer's), `r:text` (anyone else's) or `t:text` (the trigger). */
const c = (spec: string): CapCandidate => {
  const [kind, body] = spec.split(':') as [string, string];
  return { body, trusted: kind !== 'r', pinned: kind === 't' };
};
const cap = (comments: number, chars: number) => ({ comments, chars });

describe('withinCap', () => {
  it.each([
    ['everything, under the cap', ['r:aa', 'w:bb'], cap(5, 100), ['aa', 'bb'], 0],
    ['the newest, when all are alike', ['r:1', 'r:2', 'r:3'], cap(2, 100), ['2', '3'], 1],
    [
      "writers' comments before newer ones of others",
      ['w:old', 'r:a', 'r:b'],
      cap(2, 100),
      ['old', 'b'],
      1,
    ],
    ['the trigger before writers', ['w:a', 'w:b', 't:go'], cap(1, 100), ['go'], 2],
    ['the trigger even past the characters', ['r:aaaa', 't:xxxxxxxx'], cap(5, 4), ['xxxxxxxx'], 1],
    [
      'a smaller, older one when a big one does not fit',
      ['r:aa', 'r:bbbbbb', 'r:cc'],
      cap(5, 5),
      ['aa', 'cc'],
      1,
    ],
  ])('keeps %s, in their order', (_, specs, limits, kept, overCap) => {
    const result = withinCap(specs.map(c), limits);
    expect(result.kept.map((k) => k.body)).toEqual(kept);
    expect(result.overCap).toBe(overCap);
  });

  it('never keeps more than the characters allowed, the trigger aside', () => {
    const comments = Array.from({ length: 40 }, (_, i) => c(`r:${'x'.repeat(3_000 + i)}`));
    const { kept } = withinCap(comments);
    expect(kept.reduce((n, k) => n + k.body.length, 0)).toBeLessThanOrEqual(100_000);
    expect(kept.length).toBeLessThan(40);
  });
});
