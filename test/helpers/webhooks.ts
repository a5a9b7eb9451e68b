import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ExampleGroup {
  name: string;
  examples: Record<string, unknown>[];
}

/** Every payload GitHub documents, from @octokit/webhooks-examples. */
export const exampleGroups =
  require('@octokit/webhooks-examples/api.github.com/index.json') as ExampleGroup[];

/** A real example payload of an event, optionally of one action; a deep copy to edit. */
export function examplePayload(event: string, action?: string): Record<string, unknown> {
  const group = exampleGroups.find((g) => g.name === event);
  const example = group?.examples.find((e) => action === undefined || e.action === action);
  if (!example) throw new Error(`no example for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(example);
}

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Headers GitHub sends with a delivery, signed with the secret. */
export function deliveryHeaders(
  secret: string,
  event: string,
  body: string,
  id: string = randomUUID(),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-delivery': id,
    'x-github-event': event,
    'x-hub-signature-256': sign(secret, body),
  };
}
