import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY, startWorld, type World } from './harness.js';

const occurrences = (text: string, what: string) => text.split(what).length - 1;

// One server on Postgres, reached through a proxy the tests can cut; killed and restarted once.
describe('faults: the real server on Postgres', () => {
  let w: World;
  /** A delivery GitHub failed to hand over before the app ever started. */
  const lostAtStartup = randomUUID();
  let lostAttempt = 0;

  beforeAll(async () => {
    w = await startWorld({
      engine: 'postgres',
      proxy: true,
      beforeStart: (github) => {
        lostAttempt = github.addHookDelivery(lostAtStartup, 502).id;
      },
    });
  }, 180_000);
  afterAll(() => w?.cleanup(), 60_000);

  it('at startup asks GitHub to redeliver a failed delivery it never recorded, and processes it', async () => {
    await w.until('the redelivery request', () => w.github.redeliveryRequests.length > 0);
    expect(w.github.redeliveryRequests).toEqual([lostAttempt]);
    const listed = w.github.calls.find((c) => c.path.startsWith('/api/v3/app/hook/deliveries?'));
    expect(listed?.path).toContain('status=failure');

    // GitHub redelivers it (same delivery id): the session it should have started starts.
    const answer = await w.deliver('issues', w.labelled(50), lostAtStartup);
    expect(answer.outcome).toBe('queued:label-added');
    const s = await w.waitForSession(50, ['waiting'], (x) => Boolean(x.prNumber));
    expect(s.triggeredBy).toBe('alice');
  }, 120_000);

  it('SIGKILL mid-turn, then a restart: the turn is adopted and a message sent meanwhile arrives once', async () => {
    const labelId = randomUUID();
    await w.deliver(
      'issues',
      w.labelled(51, 'Slow work', 'Take your time.\n\nFAKE: until-file ~/release-51'),
      labelId,
    );
    let s = await w.waitForSession(51, ['working'], async (x) =>
      (await w.events(x.id)).some((e) => e.kind === 'turn-started'),
    );
    expect(w.processesUnder(s.workspacePath!)).not.toEqual([]);

    await w.crash();
    // Turns outlive the app: the agent is still at work.
    expect(w.processesUnder(s.workspacePath!)).not.toEqual([]);

    // While the app is down a maintainer comments; GitHub cannot deliver it and says so.
    const commentId = randomUUID();
    const comment = w.commented(51, 'wes', '/agent MARKER-COMMENT also handle empty files', 9101);
    await expect(w.post('issue_comment', comment, { id: commentId })).rejects.toThrow();
    const commentAttempt = w.github.addHookDelivery(commentId, 502).id;
    // GitHub timed out on the label delivery although the app recorded it: nothing to redeliver.
    w.github.addHookDelivery(labelId, 504);

    await w.restart();
    await w.until('the comment redelivery request', () =>
      w.github.redeliveryRequests.includes(commentAttempt),
    );
    expect(w.github.redeliveryRequests).toEqual([lostAttempt, commentAttempt]);

    // The redelivery arrives (and, as GitHub may, once more); the API queues one more message.
    expect((await w.deliver('issue_comment', comment, commentId)).outcome).toBe('queued:comment');
    expect((await w.deliver('issue_comment', comment, commentId)).duplicate).toBe(true);
    await w.until('the comment to be applied', () => w.intentOutcomes(commentId).length > 0);
    expect(w.intentOutcomes(commentId)).toEqual(['message-queued']);
    const queued = await w.api<{ queued: boolean }>(`/api/sessions/${s.id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ body: 'MARKER-API and update the changelog' }),
    });
    expect(queued.queued).toBe(true);
    const adopted = await w.until('the running turn to be adopted', async () =>
      (await w.events(s.id)).find((e) => e.kind === 'turn-adopted'),
    );
    expect(adopted.data).toMatchObject({ turn: 1, alive: true });
    expect((await w.session(s.id)).status).toBe('working');

    // The old turn ends: both messages go to the agent together, in one next turn, once.
    // In the agent's HOME: the one folder of the host its sandbox shares besides its checkout.
    writeFileSync(path.join(w.workspaceRoot, 'homes', s.id, 'release-51'), '');
    s = await w.waitForSession(51, ['waiting'], async (x) => (await w.turnsFinished(x.id)) === 2);
    const next = await w.show(s.branch!, 'agent-next.md');
    expect(occurrences(next, 'MARKER-COMMENT also handle empty files')).toBe(1);
    expect(occurrences(next, 'MARKER-API and update the changelog')).toBe(1);
    expect(await w.show(s.branch!, 'agent-first.md')).toContain('Take your time.');
    const all = await w.events(s.id);
    expect(all.filter((e) => e.kind === 'message-queued')).toHaveLength(2);
    expect(all.filter((e) => e.kind === 'messages-delivered').map((e) => e.data)).toEqual([
      { turn: 2, count: 2 },
    ]);
    expect(w.github.pullsOf(REPOSITORY).filter((p) => p.head.ref === s.branch)).toHaveLength(1);
    expect(w.processesUnder(s.workspacePath!)).toEqual([]);
  }, 180_000);

  it('Postgres cut for a few seconds: webhooks answer 503, the app recovers without a restart', async () => {
    const pid = w.server.pid;
    const id = randomUUID();
    const body = w.labelled(52);
    await w.proxy!.cut();
    const refused = await w.post('issues', body, { id });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect((await fetch(`${w.server.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${w.server.url}/healthz`)).status).toBe(200);
    await sleep(3_000); // the outage lasts a few seconds; the app keeps serving meanwhile
    expect((await w.post('issues', body, { id })).status).toBe(503);
    await w.proxy!.restore();

    await w.until('readiness', async () => (await fetch(`${w.server.url}/readyz`)).ok);
    // GitHub redelivers the failed delivery: it was never recorded, so it is processed now.
    const answer = await w.deliver('issues', body, id);
    expect(answer).toMatchObject({ outcome: 'queued:label-added' });
    expect(answer.duplicate).toBeUndefined();
    const s = await w.waitForSession(52, ['waiting'], (x) => Boolean(x.prNumber));
    expect(await w.origin.sha(s.branch!)).toBe(s.headSha);
    expect(w.server.pid).toBe(pid);
    expect(w.server.child.exitCode).toBeNull();
  }, 120_000);
});
