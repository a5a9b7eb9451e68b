/** The state machine's answers for choosing a turn and for a finished one. */
import path from 'node:path';
import { type BudgetBreach, budgetBreach } from './budget.js';
import { guardsOf, sessionSpend } from './guards.js';
import { IllegalTransitionError } from './illegal-transition.js';
import { sessionJobs } from './job-kinds.js';
import type { EventOf, SessionChanges, SessionSnapshot, Transition } from './lifecycle-event.js';
import type { SessionRules } from './session-rules.js';
import { haltFor, moveTo, unchanged } from './transition-parts.js';

/**
 * The turn a runner should run: an unfinished one again (after a restart), the first once the
 * workspace is ready, or a new one for the messages queued while the session waits. No new turn
 * starts once a budget is used up: the session waits for a human.
 */
export function turnChosen(
  s: SessionSnapshot,
  event: EventOf<'turn-chosen'>,
  rules: SessionRules,
  now: Date,
): Transition {
  const facts = factsOf(s, event.type);
  const breach = () =>
    budgetBreach(
      {
        session: sessionSpend(s),
        repositoryToday: s.daily?.repositoryToday ?? { costUsd: 0, turns: 0 },
        installationToday: s.daily?.installationToday ?? { costUsd: 0, turns: 0 },
      },
      rules.limits,
      now,
    );
  const halt = (found: BudgetBreach) =>
    haltFor(s, { kind: 'budget', data: { scope: found.scope }, reason: found.reason });
  const touch = sessionJobs.statusComment(s.id);
  const start = (number: number, messageIds: number[]) => ({
    start: {
      number,
      runnerId: event.runnerId,
      logPath: path.join(event.stateDir, `turn-${number}.log`),
      messageIds,
    },
  });
  // A turn under way is resumed; a workspace made again under it (a takeover) means it runs.
  if (facts.unfinished)
    return moveTo(s.status === 'spawning' ? 'working' : s.status, {
      turn: { resume: facts.unfinished },
    });
  if (facts.last === null) {
    if (!event.first) return unchanged(s, 'the spawn job runs the first turn');
    if (s.status !== 'spawning' || !s.workspacePath)
      throw new IllegalTransitionError(s.status, event.type, s.id);
    const over = breach();
    if (over) return halt(over);
    return moveTo('working', { turn: start(1, []), enqueue: [touch] });
  }
  // Turns have run. A spawn job that made the workspace again (a takeover) carries on with the
  // queued messages, or goes back to waiting for review or CI.
  const remade = event.first && s.status === 'spawning';
  if (event.first && !remade) return unchanged(s, 'the first turn already ran');
  if (!remade && s.status !== 'waiting' && s.status !== 'needs_human')
    return unchanged(s, `the session is ${s.status}`);
  if (facts.pending.length === 0)
    return remade
      ? moveTo('waiting', { enqueue: [touch] })
      : unchanged(s, 'no messages are queued');
  const over = breach();
  if (over) return halt(over);
  const number = facts.last + 1;
  return moveTo('working', {
    changes: { statusReason: null },
    record: [{ kind: 'messages-delivered', data: { turn: number, count: facts.pending.length } }],
    turn: start(
      number,
      facts.pending.map((m) => m.id),
    ),
    enqueue: [touch],
  });
}

/**
 * A turn ended and its work was pushed: cost, tokens, turns and agent time are added up, and the
 * session waits for review or CI; it needs a human when the turn failed, reached a budget, or was
 * the last of too many in a row that changed nothing. A session escalated to a human while the
 * turn ran stays with the human.
 */
export function turnFinished(
  s: SessionSnapshot,
  event: EventOf<'turn-finished'>,
  rules: SessionRules,
): Transition {
  const { usage, verdict } = event;
  const before = guardsOf(s);
  const noChangeTurns = event.changed === false ? before.noChangeTurns + 1 : 0;
  const changes: SessionChanges = {
    costUsd: s.costUsd + usage.costUsd,
    inputTokens: s.inputTokens + usage.inputTokens,
    outputTokens: s.outputTokens + usage.outputTokens,
    guards: {
      ...before,
      turns: before.turns + 1,
      agentSeconds: before.agentSeconds + (event.seconds ?? 0),
      noChangeTurns,
    },
  };
  if (event.headSha) changes.headSha = event.headSha;
  if (event.prNumber && !s.prNumber) changes.prNumber = event.prNumber;
  const touch = sessionJobs.statusComment(s.id);
  if (verdict.kind === 'over-budget')
    return haltFor(
      s,
      { kind: 'budget', data: { turn: event.turn }, reason: verdict.reason },
      { changes },
    );
  if (verdict.kind !== 'ok') {
    const reaction =
      verdict.kind === 'needs-human'
        ? []
        : [sessionJobs.reaction({ sessionId: s.id, key: verdict.kind, detail: verdict.reason })];
    return moveTo('needs_human', {
      changes: { ...changes, statusReason: verdict.reason },
      record: [{ kind: verdict.kind, data: { reason: verdict.reason } }],
      enqueue: [...reaction, touch],
    });
  }
  if (noChangeTurns >= rules.guards.noChangeTurns) {
    const reason = `${noChangeTurns} turns in a row changed no file`;
    return haltFor(
      s,
      { kind: 'guard', data: { guard: 'no-change', turns: noChangeTurns }, reason },
      {
        changes,
      },
    );
  }
  const escalated = s.status === 'needs_human';
  if (!escalated) changes.statusReason = null;
  const pending = factsOf(s, event.type).pending.length > 0;
  return moveTo(escalated ? 'needs_human' : 'waiting', {
    changes,
    enqueue: [...(pending && s.runnerId ? [sessionJobs.turn(s.id, s.runnerId)] : []), touch],
  });
}

function factsOf(s: SessionSnapshot, event: string) {
  if (!s.turns) throw new Error(`${event} needs the session's turn facts`);
  return s.turns;
}
