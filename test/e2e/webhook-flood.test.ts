import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_BYTES } from '../../src/server/webhook-route.js';
import { type RawAnswer, rawRequest } from '../helpers/raw-http.js';
import { deliveryHeaders, sign } from '../helpers/webhooks.js';
import { startWorld, type World } from './harness.js';

const MB = 1024 * 1024;
const FLOOD = 16;
const BODY_BYTES = 24 * MB;
/** Generous: the flood took the server from 122 MB to 709 MB before the body budget. */
const PEAK_LIMIT_MB = 400;

/** VmRSS and VmHWM (the peak so far) of a process, in MB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

// The built server on Postgres, as `npm start` runs it, flooded from outside.
describe('a flood of unsigned 24 MB bodies against the real server', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ engine: 'postgres' });
  }, 180_000);
  afterAll(() => w?.cleanup(), 60_000);

  it('keeps the server under a memory bound, answers every request, and then takes a signed delivery', async () => {
    const url = `${w.server.url}/api/github/webhooks`;
    const before = memoryOf(w.server.pid);
    const body = Buffer.alloc(BODY_BYTES, 'x');
    const requests = Array.from({ length: FLOOD }, () =>
      rawRequest(url, {
        headers: {
          ...deliveryHeaders(w.secret, 'issues', ''),
          'x-hub-signature-256': sign('not-the-secret', 'x'),
          'content-length': String(BODY_BYTES),
        },
      }),
    );
    await Promise.all(requests.map((r) => r.send(body)));
    const answers: RawAnswer[] = await Promise.all(requests.map((r) => r.answer));
    for (const r of requests) r.destroy();
    const after = memoryOf(w.server.pid);
    console.log(
      `flood of ${FLOOD} x 24 MB: server RSS ${before.rss.toFixed(0)} MB before, peak ${after.peak.toFixed(0)} MB (peak before the flood ${before.peak.toFixed(0)} MB), ${after.rss.toFixed(0)} MB after; answers ${answers.map((a) => a.status).join(' ')}`,
    );

    expect(after.peak).toBeLessThan(PEAK_LIMIT_MB);
    for (const answer of answers) {
      if (answer.status === 503) expect(answer.headers['retry-after']).toBe('5');
      else expect(answer.status).toBe(401);
    }
    // The budget (64 MB) lets two 24 MB bodies be read at once; their signatures were checked.
    expect(answers.filter((a) => a.status === 401).length).toBeGreaterThanOrEqual(2);
    // Those turned away were answered before their bodies had been sent.
    const early = answers.filter((a) => a.status === 503 && a.sentBeforeAnswer < BODY_BYTES);
    expect(early.length).toBeGreaterThan(0);

    // Over GitHub's cap, refused from the header alone.
    const huge = rawRequest(url, {
      headers: {
        ...deliveryHeaders(w.secret, 'issues', ''),
        'content-length': `${MAX_WEBHOOK_BYTES + 1}`,
      },
    });
    expect((await huge.answer).status).toBe(413);
    huge.destroy();

    const answer = await w.deliver('issues', w.payload('issues', 'opened', 'alice'));
    expect(answer.outcome).toBeDefined();
    expect((await fetch(`${w.server.url}/healthz`)).status).toBe(200);
  }, 180_000);
});
