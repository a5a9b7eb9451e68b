import { afterEach, describe, expect, it } from 'vitest';
import { NotificationError, notifySlack } from '../../src/notify/index.js';
import { startRecordingServer } from './recording-server.js';

const HOOK_PATH = '/services/T0001/B0002/s3cr3tT0k3nXXXXXXXXXXXXX';

describe('notifySlack', () => {
  const servers: { close: () => Promise<void> }[] = [];
  const start = async (...args: Parameters<typeof startRecordingServer>) => {
    const server = await startRecordingServer(...args);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('posts the text and the channel as JSON to the incoming webhook', async () => {
    const slack = await start();

    await notifySlack(fetch, {
      webhookUrl: `${slack.url}${HOOK_PATH}`,
      text: 'octo/widgets#42: the pull request is approved and green',
      channel: '#agents',
    });

    expect(slack.requests).toHaveLength(1);
    const [request] = slack.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(HOOK_PATH);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body.toString())).toEqual({
      text: 'octo/widgets#42: the pull request is approved and green',
      channel: '#agents',
    });
  });

  it('leaves the channel out when none is given, and uses the global fetch by default', async () => {
    const slack = await start();

    await notifySlack(undefined, {
      webhookUrl: `${slack.url}${HOOK_PATH}`,
      text: 'hello',
      channel: undefined,
    });

    expect(JSON.parse(slack.requests[0]!.body.toString())).toEqual({ text: 'hello' });
  });

  it('escapes &, < and > so that text taken from GitHub cannot ping a whole channel', async () => {
    const slack = await start();

    await notifySlack(fetch, {
      webhookUrl: `${slack.url}${HOOK_PATH}`,
      text: 'Fix <!channel> & a > b',
    });

    expect(JSON.parse(slack.requests[0]!.body.toString()).text).toBe(
      'Fix &lt;!channel&gt; &amp; a &gt; b',
    );
  });

  it("throws with Slack's status and answer when it is not 2xx, never with the secret URL", async () => {
    const slack = await start(() => ({ status: 500, body: 'internal_error' }));

    const error = await notifySlack(fetch, {
      webhookUrl: `${slack.url}${HOOK_PATH}`,
      text: 'hello',
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotificationError);
    expect(error).toMatchObject({ channel: 'slack', status: 500 });
    expect((error as Error).message).toContain('answered 500: internal_error');
    expect((error as Error).message).not.toContain('s3cr3t');
    expect(slack.requests).toHaveLength(1);
  });

  it('throws when Slack cannot be reached or does not answer in time', async () => {
    const gone = await start();
    await gone.close();
    await expect(
      notifySlack(fetch, { webhookUrl: `${gone.url}${HOOK_PATH}`, text: 'hello' }),
    ).rejects.toBeInstanceOf(NotificationError);

    const silent = await start(() => undefined);
    await expect(
      notifySlack(fetch, {
        webhookUrl: `${silent.url}${HOOK_PATH}`,
        text: 'hello',
        timeoutMs: 200,
      }),
    ).rejects.toMatchObject({
      channel: 'slack',
      status: undefined,
    });
  });
});
