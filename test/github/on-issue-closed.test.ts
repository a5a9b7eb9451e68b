import { describe, expect, it } from 'vitest';
import { onIssueClosed } from '../../src/github/on-issue-closed.js';
import type { IntentOf } from '../../src/sessions/intents.js';
import { fakeLifecycle, INSTALLATION_ID, REPO, session } from './support/fake-lifecycle.js';
import { permission, useNock } from './support/github-api.js';

function closedBy(
  login: string,
  overrides: Partial<IntentOf<'issue-closed'>> = {},
): IntentOf<'issue-closed'> {
  return {
    kind: 'issue-closed',
    installationId: INSTALLATION_ID,
    repo: REPO,
    sender: { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' },
    issueNumber: 12,
    issueAuthor: 'olive',
    ...overrides,
  };
}

const stopBy = (login: string) => ({
  type: 'stop-requested',
  status: 'closed',
  reason: `issue closed by @${login}`,
  cleanup: true,
  by: login,
});

describe('an issue closed', () => {
  useNock();

  it("by the issue's author ends its session, asking GitHub nothing", async () => {
    const s = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [s] });

    expect(await onIssueClosed(f.deps, closedBy('olive'), 'd-1')).toBe('stopped');
    expect(f.callsTo('apply')).toEqual([[s.id, stopBy('olive')]]);
    expect(f.octokits).toEqual([]);
  });

  it.each(['write', 'maintain', 'admin'] as const)(
    'by a %s user ends its session',
    async (role) => {
      const s = session({ issueNumber: 12, status: 'waiting', prNumber: null });
      const f = fakeLifecycle({ rows: [s] });
      permission('wes', role);

      expect(await onIssueClosed(f.deps, closedBy('wes'), 'd-1')).toBe('stopped');
      expect(f.callsTo('apply')).toEqual([[s.id, stopBy('wes')]]);
    },
  );

  it.each([
    ['triage', 'role triage'],
    ['read', 'role read'],
    [null, 'not a collaborator'],
  ] as const)(
    'by a %s user who did not open it is recorded and ends nothing',
    async (role, reason) => {
      const s = session({ issueNumber: 12, status: 'working' });
      const f = fakeLifecycle({ rows: [s] });
      permission('trina', role);

      expect(await onIssueClosed(f.deps, closedBy('trina'), 'd-1')).toBe(`ignored: ${reason}`);
      expect(f.callsTo('apply')).toEqual([]);
      expect(f.callsTo('record')).toEqual([
        [
          s.id,
          'ignored',
          {
            key: 'issue-closed',
            reason: `closed by @trina (${reason}), who may not end the session`,
          },
          { deliveryId: 'd-1' },
        ],
      ]);
    },
  );

  it('by a bot that bears the author\u2019s name is not the author', async () => {
    const s = session({ issueNumber: 12, status: 'working' });
    const f = fakeLifecycle({ rows: [s] });

    const outcome = await onIssueClosed(
      f.deps,
      closedBy('helper[bot]', { issueAuthor: 'helper[bot]' }),
      'd-1',
    );

    expect(outcome).toBe('ignored: bot helper[bot] is not allow-listed');
    expect(f.callsTo('apply')).toEqual([]);
  });

  it('with a pull request open keeps its session, whoever closed it', async () => {
    const f = fakeLifecycle({ rows: [session({ issueNumber: 12, prNumber: 7 })] });

    expect(await onIssueClosed(f.deps, closedBy('olive'), 'd-1')).toBe('kept: has a pull request');
    expect(f.callsTo('apply')).toEqual([]);
  });

  it('with no live session does nothing and asks GitHub nothing', async () => {
    const f = fakeLifecycle();

    expect(await onIssueClosed(f.deps, closedBy('trina'), 'd-1')).toBe('no-session');
    expect(f.calls).toEqual([]);
    expect(f.octokits).toEqual([]);
  });
});
