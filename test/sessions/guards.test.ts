import { describe, expect, it } from 'vitest';
import {
  automatedWithin,
  ciFailureSignature,
  guardsOf,
  isRepeatedCiFailure,
  sessionSpend,
} from '../../src/sessions/guards.js';

describe('a CI failure’s signature', () => {
  const sign = (checks: string[], firstError: string) => ciFailureSignature({ checks, firstError });

  it.each([
    ['the same checks in another order', sign(['lint', 'test'], 'e'), sign(['test', 'lint'], 'e')],
    [
      'times, shas and durations that differ from run to run',
      sign(['test'], '2026-12-01T10:00:00Z src/a.ts:3 failed after 812ms at abc1234'),
      sign(['test'], '2026-12-02T11:22:33Z src/a.ts:3 failed after 77ms at 9f8e7d6'),
    ],
  ])('is the same for %s', (_, a, b) => {
    expect(a).toBe(b);
  });

  it.each([
    ['another failing check', sign(['test'], 'e'), sign(['lint'], 'e')],
    [
      'another first error',
      sign(['test'], 'src/a.ts:3 TypeError'),
      sign(['test'], 'src/a.ts:3 RangeError'),
    ],
  ])('differs for %s', (_, a, b) => {
    expect(a).not.toBe(b);
  });
});

describe('the repeated CI failure guard', () => {
  const guards = (ci?: { signature: string; afterTurns: number }) => guardsOf({ guards: { ci } });
  it.each([
    [
      'the same failure after the agent had a turn',
      guards({ signature: 's', afterTurns: 2 }),
      's',
      3,
      true,
    ],
    [
      'the same failure before any turn since',
      guards({ signature: 's', afterTurns: 3 }),
      's',
      3,
      false,
    ],
    ['another failure after a turn', guards({ signature: 's', afterTurns: 2 }), 't', 3, false],
    ['the first failure', guards(), 's', 3, false],
  ])('%s: %s', (_, g, signature, turns, repeated) => {
    expect(isRepeatedCiFailure(g, signature, turns)).toBe(repeated);
  });
});

describe('automated messages within the hour', () => {
  it('keeps those of the last hour and adds the new one', () => {
    const now = new Date('2026-12-01T12:00:00.000Z');
    const kept = automatedWithin(
      guardsOf({
        guards: {
          automated: [
            '2026-12-01T10:59:59.000Z',
            '2026-12-01T11:00:01.000Z',
            '2026-12-01T11:59:00.000Z',
          ],
        },
      }),
      now,
    );
    expect(kept).toEqual([
      '2026-12-01T11:00:01.000Z',
      '2026-12-01T11:59:00.000Z',
      now.toISOString(),
    ]);
  });
});

describe("a session's spend for its budget", () => {
  it('counts from where a retry started it over', () => {
    const spent = sessionSpend({
      costUsd: 7.5,
      guards: {
        turns: 9,
        agentSeconds: 900,
        budgetFrom: { costUsd: 5, turns: 6, agentSeconds: 600 },
      },
    });
    expect(spent).toEqual({ costUsd: 2.5, turns: 3, agentSeconds: 300 });
  });

  it('reads a malformed guards column as a fresh one', () => {
    expect(guardsOf({ guards: { noChangeTurns: 'three' } })).toMatchObject({
      noChangeTurns: 0,
      automated: [],
    });
  });
});

describe("a session's context, read key by key", () => {
  it('keeps the repository config when the issue snapshot is malformed', async () => {
    const { configOf, contextOf } = await import('../../src/sessions/session-context.js');
    const session = { context: { issue: { title: 42 }, config: { limits: { turns: 2 } } } };
    expect(contextOf(session).issue).toBeUndefined();
    expect(configOf(session).limits).toEqual({ turns: 2 });
  });
});
