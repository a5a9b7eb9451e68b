/** The state machine's answer to a reaction: `decide` on the locked session, then its effects. */
import type { Session } from '../db/schema.js';
import { automatedWithin, guardsOf, isRepeatedCiFailure } from './guards.js';
import { sessionJobs } from './job-kinds.js';
import type { EventOf, SessionChanges, SessionSnapshot, Transition } from './lifecycle-event.js';
import { decide, isRunnerKey, type ReactionKey } from './reactions.js';
import type { SessionRules } from './session-rules.js';
import { haltFor, moveTo } from './transition-parts.js';
import { queuedMessage } from './transition-session.js';
import { stopRequested } from './transition-stop.js';

export function reactionTransition(
  s: SessionSnapshot,
  event: EventOf<'reaction'>,
  rules: SessionRules,
  now: Date,
): Transition {
  const { key } = event;
  const decision = decide(s, { key, headSha: event.headSha }, rules.repo);
  if (decision.do === 'ignore') {
    return moveTo(s.status, {
      record: [{ kind: 'ignored', data: { key, reason: decision.reason } }],
      ignored: decision.reason,
    });
  }
  const changes = { reactionAttempts: decision.attempts };
  const record = [
    { kind: 'reaction', data: { key, action: decision.do, attempts: decision.attempts[key] ?? 0 } },
  ];
  const touch = sessionJobs.statusComment(s.id);
  const notify = (text: string) => sessionJobs.notify({ sessionId: s.id, reason: key, text });
  switch (decision.do) {
    case 'escalate': {
      // What the runner saw is the session's reason already: it is kept in front.
      const saw = isRunnerKey(key) && s.statusReason ? `${s.statusReason}; ` : '';
      const reason = `${saw}${key}: ${decision.attempts[key]} attempts, more than the ${decision.rule.retries} allowed`;
      return moveTo('needs_human', {
        changes: { ...changes, statusReason: reason },
        record,
        enqueue: [notify(`${reason}. A human needs to look at this.`), touch],
      });
    }
    case 'notify':
      return moveTo(decision.status ?? s.status, {
        changes,
        record,
        enqueue: [notify(decision.rule.message ?? notifyText(key, s)), touch],
      });
    case 'send-to-agent':
      return sendToAgent(s, event, rules, now, {
        changes,
        record,
        message: decision.rule.message,
      });
    case 'auto-merge':
      // The merge itself is a GitHub call, made once this is written.
      return moveTo(s.status, { changes, record, enqueue: [touch] });
    case 'cleanup':
    case 'stop': {
      const status = decision.status === 'merged' ? 'merged' : 'closed';
      const stop = stopRequested(
        s,
        { type: 'stop-requested', status, reason: key, cleanup: true, by: event.by ?? key },
        now,
      );
      return {
        ...stop,
        changes: { ...changes, ...stop.changes },
        record: [...record, ...stop.record],
        enqueue: [...stop.enqueue, touch],
      };
    }
  }
}

/**
 * A message for the agent from the rules, unless a loop guard stops it: more automated messages
 * in an hour than the guards allow, or the same CI failure back after the agent's turn. A CI
 * failure's message replaces one for an older head that is still waiting to be delivered.
 */
function sendToAgent(
  s: SessionSnapshot,
  event: EventOf<'reaction'>,
  rules: SessionRules,
  now: Date,
  decided: { changes: SessionChanges; record: Transition['record']; message?: string | undefined },
): Transition {
  const { changes, record } = decided;
  const touch = sessionJobs.statusComment(s.id);
  if (!event.body) return moveTo(s.status, { changes, record, enqueue: [touch] });
  const guards = guardsOf(s);
  const automated = automatedWithin(guards, now);
  const limit = rules.guards.automatedPerHour;
  if (automated.length > limit) {
    const reason = `more than ${limit} automated messages reached the session within an hour`;
    return haltFor(
      s,
      { kind: 'guard', data: { guard: 'automated', key: event.key }, reason },
      {
        changes: { ...changes, guards: { ...guards, automated } },
        record,
      },
    );
  }
  const { signature } = event;
  if (
    signature &&
    rules.guards.sameCiFailure &&
    isRepeatedCiFailure(guards, signature, guards.turns)
  ) {
    const reason = 'the same CI failure came back after the agent had a turn to fix it';
    return haltFor(
      s,
      { kind: 'guard', data: { guard: 'same-ci-failure', signature }, reason },
      {
        changes: { ...changes, guards: { ...guards, automated } },
        record,
      },
    );
  }
  const body = decided.message ? `${decided.message}\n\n${event.body}` : event.body;
  const queued = queuedMessage(s, { body, source: event.key }, record);
  return {
    ...queued,
    changes: {
      ...changes,
      guards: {
        ...guards,
        automated,
        ...(signature ? { ci: { signature, afterTurns: guards.turns } } : {}),
      },
    },
    ...(event.key === 'ci-failed' ? { dropPending: ['ci-failed'] } : {}),
  };
}

/** What people are told when a rule notifies and the repository set no message of its own. */
function notifyText(
  key: ReactionKey,
  session: Pick<Session, 'prNumber' | 'statusReason' | 'id'>,
): string {
  switch (key) {
    case 'approved-and-green':
      return `Pull request #${session.prNumber} is approved and every check is green: ready to merge.`;
    case 'agent-failed':
      return `The agent failed: ${session.statusReason ?? 'its turn exited with an error'}.`;
    case 'agent-stuck':
      return `The agent ran past its time limit and was stopped: ${session.statusReason ?? ''}`;
    default:
      return `${key} on session ${session.id}.`;
  }
}
