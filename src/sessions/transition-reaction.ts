/** The state machine's answer to a reaction: `decide` on the locked session, then its effects. */
import type { Session } from '../db/schema.js';
import { sessionJobs } from './job-kinds.js';
import type { EventOf, SessionSnapshot, Transition } from './lifecycle-event.js';
import { decide, type ReactionKey } from './reactions.js';
import type { RepoConfig } from './repo-config.js';
import { moveTo } from './transition-parts.js';
import { queuedMessage } from './transition-session.js';
import { stopRequested } from './transition-stop.js';

export function reactionTransition(
  s: SessionSnapshot,
  event: EventOf<'reaction'>,
  config: RepoConfig,
  now: Date,
): Transition {
  const { key } = event;
  const decision = decide(s, { key, headSha: event.headSha }, config);
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
      const reason = `${key}: ${decision.attempts[key]} attempts, more than the ${decision.rule.retries} allowed`;
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
    case 'send-to-agent': {
      if (!event.body) return moveTo(s.status, { changes, record, enqueue: [touch] });
      const body = decision.rule.message ? `${decision.rule.message}\n\n${event.body}` : event.body;
      return { ...queuedMessage(s, { body, source: key }, record), changes };
    }
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
