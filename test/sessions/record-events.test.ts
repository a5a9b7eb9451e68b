import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionEvents } from '../../src/db/schema.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { EVENTS_PER_INSERT } from '../../src/sessions/record-events.js';
import { createSessionService, type SessionService } from '../../src/sessions/session-service.js';
import { saveOmittedLines, turnOutputSoFar } from '../../src/sessions/turn-output-store.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

describe.each(ENGINES)('timeline events of an agent turn on %s', (engine) => {
  let t: TestDatabase;
  let service: SessionService;
  let issue = 0;

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    service = createSessionService({
      db: t.database.db,
      queue: createJobQueue({ db: t.database.db }),
    });
  });
  afterAll(() => t?.cleanup());

  const newSession = async () => {
    issue += 1;
    const session = await service.create({
      installationId: 7,
      repositoryId: 42,
      repositoryFullName: 'octo/widgets',
      cloneUrl: 'https://github.com/octo/widgets.git',
      issueNumber: issue,
      agent: 'claude-code',
      triggeredBy: 'alice',
      context: {},
    });
    return session!.id;
  };
  const textsOf = async (id: string) =>
    (
      await t.database.db
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.sessionId, id))
        .orderBy(asc(sessionEvents.id))
    ).filter((e) => e.kind === 'agent.text');

  it('records 20,000 events at once, in order, past the 65,535 parameters of one statement', async () => {
    const id = await newSession();
    const events = Array.from({ length: 20_000 }, (_, i) => ({
      kind: 'agent.text',
      data: { turn: 1, text: `line ${i + 1}` },
    }));
    expect(events.length * 4).toBeGreaterThan(65_535);
    await t.database.db.transaction((tx) => service.recordAll(id, events, { tx }));
    const texts = await textsOf(id);
    expect(texts).toHaveLength(20_000);
    expect(texts.map((e) => e.data.text)).toEqual(events.map((e) => e.data.text));
    expect(EVENTS_PER_INSERT).toBeLessThanOrEqual(1_000);
  }, 60_000);

  it('keeps one event counting the lines past the cap, and knows a turn’s share after a restart', async () => {
    const id = await newSession();
    await service.recordAll(id, [
      { kind: 'agent.text', data: { turn: 1, text: 'one' } },
      { kind: 'agent.tool_use', data: { turn: 1, name: 'Bash' } },
      { kind: 'agent.result', data: { turn: 1, isError: false } },
      { kind: 'agent.text', data: { turn: 2, text: 'other turn' } },
    ]);
    expect(await turnOutputSoFar(t.database.db, id, 1)).toEqual({
      recorded: 2,
      omittedLines: 0,
      omittedEventId: undefined,
    });

    const first = await saveOmittedLines(t.database.db, id, undefined, {
      turn: 1,
      omittedLines: 10,
    });
    const again = await saveOmittedLines(t.database.db, id, first, { turn: 1, omittedLines: 25 });
    expect(again).toBe(first);
    const omitted = (await textsOf(id)).filter((e) => 'omittedLines' in e.data);
    expect(omitted.map((e) => e.data)).toEqual([{ turn: 1, omittedLines: 25 }]);
    expect(await turnOutputSoFar(t.database.db, id, 1)).toEqual({
      recorded: 2,
      omittedLines: 25,
      omittedEventId: first,
    });
  });
});
