import { describe, expect, it } from 'vitest';
import { TERMINAL_SESSION_STATUSES } from '../../src/db/schema.js';
import {
  DEFAULT_REACTIONS,
  decide,
  REACTION_KEYS,
  type SessionView,
} from '../../src/sessions/reactions.js';
import { type RepoConfig, repoConfigSchema } from '../../src/sessions/repo-config.js';

const HEAD = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
const OLD_HEAD = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

const defaults: RepoConfig = repoConfigSchema.parse({});
const withReactions = (reactions: unknown): RepoConfig => repoConfigSchema.parse({ reactions });

function session(overrides: Partial<SessionView> = {}): SessionView {
  return { status: 'waiting', headSha: HEAD, reactionAttempts: {}, ...overrides };
}

describe('decide: the reaction table', () => {
  it('has a default rule for every reaction key', () => {
    expect(Object.keys(DEFAULT_REACTIONS).sort()).toEqual([...REACTION_KEYS].sort());
  });

  it('changes-requested sends the review to the agent and counts an attempt', () => {
    const first = decide(session(), { key: 'changes-requested', headSha: HEAD }, defaults);
    expect(first).toMatchObject({ do: 'send-to-agent', attempts: { 'changes-requested': 1 } });
    expect(first).toMatchObject({ status: undefined });
    const second = decide(
      session({ reactionAttempts: { 'changes-requested': 1 } }),
      { key: 'changes-requested' },
      defaults,
    );
    expect(second).toMatchObject({ do: 'send-to-agent', attempts: { 'changes-requested': 2 } });
  });

  it('ci-failed sends the failure to the agent and counts an attempt', () => {
    const decision = decide(
      session({ reactionAttempts: { 'ci-failed': 2 } }),
      { key: 'ci-failed', headSha: HEAD },
      defaults,
    );
    expect(decision).toMatchObject({ do: 'send-to-agent', attempts: { 'ci-failed': 3 } });
  });

  it('past its retries (3 by default) a counted reaction escalates: the session needs a human', () => {
    for (const key of ['changes-requested', 'ci-failed', 'merge-conflict'] as const) {
      const decision = decide(
        session({ reactionAttempts: { [key]: 3 } }),
        { key, headSha: HEAD },
        defaults,
      );
      expect(decision, key).toEqual({
        do: 'escalate',
        rule: DEFAULT_REACTIONS[key],
        attempts: { [key]: 4 },
        status: 'needs_human',
      });
    }
  });

  it('approved-and-green notifies by default and leaves the status alone', () => {
    const decision = decide(session(), { key: 'approved-and-green', headSha: HEAD }, defaults);
    expect(decision).toEqual({
      do: 'notify',
      rule: DEFAULT_REACTIONS['approved-and-green'],
      attempts: {},
      status: undefined,
    });
  });

  it('approved-and-green merges when the repository asks for auto-merge, with its merge method', () => {
    const config = withReactions({
      'approved-and-green': { action: 'auto-merge', mergeMethod: 'rebase' },
    });
    const decision = decide(session(), { key: 'approved-and-green', headSha: HEAD }, config);
    expect(decision).toMatchObject({
      do: 'auto-merge',
      rule: { action: 'auto-merge', mergeMethod: 'rebase' },
      status: undefined,
    });
  });

  it('merge-conflict sends a rebase request to the agent and counts an attempt', () => {
    const decision = decide(session(), { key: 'merge-conflict' }, defaults);
    expect(decision).toMatchObject({
      do: 'send-to-agent',
      attempts: { 'merge-conflict': 1 },
      status: undefined,
    });
  });

  it('merged cleans up and marks the session merged', () => {
    const decision = decide(session(), { key: 'merged' }, defaults);
    expect(decision).toMatchObject({ do: 'cleanup', status: 'merged' });
  });

  it('pr-closed (unmerged) stops the session as closed', () => {
    expect(decide(session(), { key: 'pr-closed' }, defaults)).toMatchObject({
      do: 'stop',
      status: 'closed',
    });
  });

  it('issue-closed stops the session as closed', () => {
    expect(decide(session(), { key: 'issue-closed' }, defaults)).toMatchObject({
      do: 'stop',
      status: 'closed',
    });
  });

  it('agent-failed notifies and marks the session as needing a human, uncounted', () => {
    const decision = decide(session({ status: 'working' }), { key: 'agent-failed' }, defaults);
    expect(decision).toEqual({
      do: 'notify',
      rule: DEFAULT_REACTIONS['agent-failed'],
      attempts: {},
      status: 'needs_human',
    });
  });

  it('a stuck agent gets one more try, even as its turn leaves the session needing a human', () => {
    const first = decide(session({ status: 'needs_human' }), { key: 'agent-stuck' }, defaults);
    expect(first).toMatchObject({ do: 'send-to-agent', attempts: { 'agent-stuck': 1 } });
    expect(DEFAULT_REACTIONS['agent-stuck'].message).toContain('Your last turn was stopped');
    const second = decide(
      session({ status: 'needs_human', reactionAttempts: { 'agent-stuck': 1 } }),
      { key: 'agent-stuck' },
      defaults,
    );
    expect(second).toMatchObject({ do: 'escalate', status: 'needs_human' });
  });

  it('other automatic messages still wait for the human: a CI failure while one is asked', () => {
    expect(decide(session({ status: 'needs_human' }), { key: 'ci-failed' }, defaults)).toEqual({
      do: 'ignore',
      reason: 'awaiting-human',
    });
  });
});

describe('decide: repository overrides', () => {
  it('a repository sets the retries of a reaction', () => {
    const config = withReactions({ 'ci-failed': { retries: 1 } });
    expect(decide(session(), { key: 'ci-failed' }, config)).toMatchObject({ do: 'send-to-agent' });
    expect(
      decide(session({ reactionAttempts: { 'ci-failed': 1 } }), { key: 'ci-failed' }, config),
    ).toMatchObject({
      do: 'escalate',
      status: 'needs_human',
      attempts: { 'ci-failed': 2 },
    });
  });

  it('retries 0 escalates on the first event', () => {
    const config = withReactions({ 'changes-requested': { retries: 0 } });
    expect(decide(session(), { key: 'changes-requested' }, config)).toMatchObject({
      do: 'escalate',
    });
  });

  it('a repository ignores a reaction', () => {
    const config = withReactions({ 'ci-failed': { action: 'ignore' } });
    expect(decide(session(), { key: 'ci-failed', headSha: HEAD }, config)).toEqual({
      do: 'ignore',
      reason: 'configured-ignore',
    });
  });

  it('a repository notifies instead of sending to the agent, without counting', () => {
    const config = withReactions({
      'changes-requested': { action: 'notify', message: 'A review needs you.' },
    });
    const decision = decide(
      session({ reactionAttempts: { 'changes-requested': 9 } }),
      { key: 'changes-requested' },
      config,
    );
    expect(decision).toMatchObject({
      do: 'notify',
      rule: { action: 'notify', message: 'A review needs you.', retries: 3 },
      attempts: { 'changes-requested': 9 },
      status: undefined,
    });
  });

  it('an override keeps the defaults of the fields it does not set', () => {
    const config = withReactions({ 'ci-failed': { message: 'CI is red.' } });
    const decision = decide(session(), { key: 'ci-failed' }, config);
    expect(decision).toMatchObject({
      do: 'send-to-agent',
      rule: { action: 'send-to-agent', retries: 3, mergeMethod: 'squash', message: 'CI is red.' },
    });
  });
});

describe('decide: events not acted on', () => {
  it('an event about an older head commit is stale and ignored', () => {
    const decision = decide(session(), { key: 'ci-failed', headSha: OLD_HEAD }, defaults);
    expect(decision).toEqual({ do: 'ignore', reason: 'stale-head' });
  });

  it('an event without a head, or a session without one yet, is not stale', () => {
    expect(decide(session(), { key: 'ci-failed' }, defaults)).toMatchObject({
      do: 'send-to-agent',
    });
    expect(
      decide(session({ headSha: null }), { key: 'ci-failed', headSha: OLD_HEAD }, defaults),
    ).toMatchObject({
      do: 'send-to-agent',
    });
  });

  it('a session that has ended ignores every event', () => {
    for (const status of TERMINAL_SESSION_STATUSES) {
      for (const key of REACTION_KEYS) {
        expect(
          decide(session({ status }), { key, headSha: HEAD }, defaults),
          `${status} ${key}`,
        ).toEqual({
          do: 'ignore',
          reason: 'terminal-session',
        });
      }
    }
  });

  it('a session that needs a human still reacts (a merge cleans it up)', () => {
    const decision = decide(session({ status: 'needs_human' }), { key: 'merged' }, defaults);
    expect(decision).toMatchObject({ do: 'cleanup', status: 'merged' });
  });
});

describe('decide: attempts', () => {
  it('are counted per reaction key', () => {
    const start = session({ reactionAttempts: { 'ci-failed': 3, 'merge-conflict': 1 } });
    const decision = decide(start, { key: 'changes-requested', headSha: HEAD }, defaults);
    expect(decision).toMatchObject({
      do: 'send-to-agent',
      attempts: { 'ci-failed': 3, 'merge-conflict': 1, 'changes-requested': 1 },
    });
  });

  it('are returned as a new record; the session view is not changed', () => {
    const start = session({ reactionAttempts: { 'ci-failed': 1 } });
    decide(start, { key: 'ci-failed' }, defaults);
    expect(start.reactionAttempts).toEqual({ 'ci-failed': 1 });
  });

  it('are not counted for reactions that do not send to the agent', () => {
    for (const key of [
      'approved-and-green',
      'merged',
      'pr-closed',
      'issue-closed',
      'agent-failed',
    ] as const) {
      const decision = decide(session({ reactionAttempts: { 'ci-failed': 2 } }), { key }, defaults);
      expect(decision, key).toMatchObject({ attempts: { 'ci-failed': 2 } });
      expect(Object.keys((decision as { attempts: object }).attempts), key).toEqual(['ci-failed']);
    }
  });
});
