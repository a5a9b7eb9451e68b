import { afterEach, describe, expect, it } from 'vitest';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  NotificationError,
  type NotificationPayload,
  notifyWebhook,
  SIGNATURE_HEADER,
  sign,
  verifySignature,
} from '../../src/notify/index.js';
import { type RecordedRequest, startRecordingServer } from './recording-server.js';

const SECRET = 'a-shared-secret-of-32-characters';

const payload: NotificationPayload = {
  sessionId: 'ses_01HXYZ',
  repository: 'octo/widgets',
  issueNumber: 42,
  prNumber: 57,
  reason: 'approved-and-green',
  text: 'The pull request is approved and every check is green. ✅',
  url: 'https://github.com/octo/widgets/pull/57',
};
const event = { type: 'session.notify', ...payload };

/** A receiver as an operator would write one: verify the raw body, then accept. */
const receiver = (secret: string) => (request: RecordedRequest) =>
  verifySignature(secret, request.body, request.headers[SIGNATURE_HEADER.toLowerCase()])
    ? { status: 204 }
    : { status: 401, body: 'bad signature' };

describe('notifyWebhook', () => {
  const servers: { close: () => Promise<void> }[] = [];
  const start = async (...args: Parameters<typeof startRecordingServer>) => {
    const server = await startRecordingServer(...args);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('posts the event as JSON, signed with HMAC-SHA256 of the exact body, with its type and a delivery id', async () => {
    const hook = await start(receiver(SECRET));

    const { deliveryId } = await notifyWebhook(fetch, {
      url: `${hook.url}/hooks/agents`,
      secret: SECRET,
      event,
    });

    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hooks/agents');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers[SIGNATURE_HEADER.toLowerCase()]).toBe(sign(SECRET, request!.body));
    expect(request!.headers[SIGNATURE_HEADER.toLowerCase()]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(request!.headers[EVENT_HEADER.toLowerCase()]).toBe('session.notify');
    expect(request!.headers[DELIVERY_HEADER.toLowerCase()]).toBe(deliveryId);
    expect(deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(request!.body.toString('utf8'))).toEqual(event);
  });

  it('sends the delivery id it is given, so that a receiver can recognise a retry', async () => {
    const hook = await start(receiver(SECRET));

    for (let attempt = 0; attempt < 2; attempt++) {
      await notifyWebhook(fetch, { url: hook.url, secret: SECRET, event, deliveryId: 'job-77' });
    }

    expect(hook.requests.map((r) => r.headers[DELIVERY_HEADER.toLowerCase()])).toEqual([
      'job-77',
      'job-77',
    ]);
  });

  it('throws with the status when the receiver answers 500', async () => {
    const hook = await start(() => ({ status: 500, body: 'database down' }));

    await expect(notifyWebhook(fetch, { url: hook.url, secret: SECRET, event })).rejects.toThrow(
      new NotificationError(
        `webhook notification to ${new URL(hook.url).host} answered 500: database down`,
        { channel: 'webhook', status: 500 },
      ),
    );
  });

  it('throws when the receiver rejects the signature made with another secret', async () => {
    const hook = await start(receiver('the-receiver-has-another-secret'));

    await expect(
      notifyWebhook(fetch, { url: hook.url, secret: SECRET, event }),
    ).rejects.toMatchObject({ channel: 'webhook', status: 401 });
  });

  it('does not follow a redirect with the signed body, and counts it as a failure', async () => {
    const elsewhere = await start(receiver(SECRET));
    const hook = await start(() => ({
      status: 307,
      headers: { location: `${elsewhere.url}/steal` },
    }));

    await expect(
      notifyWebhook(fetch, { url: hook.url, secret: SECRET, event }),
    ).rejects.toMatchObject({ status: 307 });
    expect(elsewhere.requests).toEqual([]);
  });
});

describe('verifySignature', () => {
  const body = JSON.stringify(event);

  it('accepts the signature of the exact body made with the same secret', () => {
    expect(verifySignature(SECRET, body, sign(SECRET, body))).toBe(true);
    expect(verifySignature(SECRET, Buffer.from(body), sign(SECRET, body))).toBe(true);
  });

  it('rejects another body, another secret, another algorithm and a missing or malformed header', () => {
    const signature = sign(SECRET, body);
    expect(verifySignature(SECRET, body.replace('42', '43'), signature)).toBe(false);
    expect(verifySignature('another-secret-another-secret!!', body, signature)).toBe(false);
    expect(verifySignature(SECRET, body, signature.replace('sha256=', 'sha1='))).toBe(false);
    expect(verifySignature(SECRET, body, signature.slice(0, -2))).toBe(false);
    expect(verifySignature(SECRET, body, signature.toUpperCase())).toBe(false);
    expect(verifySignature(SECRET, body, undefined)).toBe(false);
    expect(verifySignature(SECRET, body, '')).toBe(false);
    expect(verifySignature(SECRET, body, [signature, signature])).toBe(false);
  });
});
