import type { Session } from '../../../src/db/schema.js';

export const SESSION_ID = 's-abc123def456';

/**
 * A full sessions row for the state machine's tables: session SESSION_ID of octo/widgets#1 on
 * runner r-host-1, with a workspace and pull request #7, waiting. Each table overrides what it
 * is about.
 */
export function sessionRow(overrides: Partial<Session> = {}): Session {
  return {
    id: SESSION_ID,
    installationId: 1001,
    repositoryId: 42,
    repositoryFullName: 'octo/widgets',
    cloneUrl: 'https://github.com/octo/widgets.git',
    issueNumber: 1,
    prNumber: 7,
    branch: 'agent/1-x',
    baseBranch: 'main',
    headSha: 'h1',
    agent: 'claude-code',
    profile: null,
    runnerId: 'r-host-1',
    status: 'waiting',
    statusReason: null,
    workspacePath: '/w/s',
    agentSessionRef: null,
    statusCommentId: 99,
    triggeredBy: 'alice',
    context: {},
    reactionAttempts: {},
    guards: {},
    costUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    createdAt: new Date('2026-12-01T11:00:00.000Z'),
    updatedAt: new Date('2026-12-01T11:30:00.000Z'),
    endedAt: null,
    ...overrides,
  };
}
