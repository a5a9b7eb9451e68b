import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../src/db/schema.js';
import { readDatabaseGauges } from '../../src/metrics/database-gauges.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { operatorConfigSchema } from '../../src/operator-config.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

const log = pino({ level: 'silent' });
const budgets = { limits: operatorConfigSchema.parse({}).limits, today: () => new Date() };

describe.each(ENGINES)('the retrying-jobs gauge on %s', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(engine);
  });
  afterAll(() => t?.cleanup());

  it('counts, by kind, the pending jobs that failed at least once', async () => {
    await t.database.db.insert(jobs).values([
      { kind: 'github.intent', status: 'pending', attempts: 0 },
      { kind: 'github.intent', status: 'pending', attempts: 1, lastError: 'HttpError: 502' },
      { kind: 'github.intent', status: 'pending', attempts: 3, lastError: 'HttpError: 502' },
      { kind: 'github.intent', status: 'running', attempts: 2 },
      { kind: 'github.intent', status: 'dead', attempts: 5 },
      { kind: 'session.notify', status: 'pending', attempts: 4, lastError: 'slack: 500' },
      { kind: 'session.spawn', status: 'done', attempts: 2 },
    ]);
    const metrics = createMetrics();

    await readDatabaseGauges(metrics, t.database, log, budgets);

    const samples = parsePrometheusText(await metrics.registry.metrics());
    const retrying = (kind: string) =>
      sampleValue(samples, 'agent_orchestrator_jobs_retrying', { kind });
    expect(retrying('github.intent')).toBe(2);
    expect(retrying('session.notify')).toBe(1);
    // A kind with nothing retrying still has its series, at 0.
    expect(retrying('session.spawn')).toBe(0);
  });
});
