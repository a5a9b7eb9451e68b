import { deliveryHeaders, examplePayload } from '../../test/helpers/webhooks.js';

export const REPOSITORY = 'octo/widgets';
export const REPOSITORY_ID = 4242;
export const INSTALLATION_ID = 7;

// biome-ignore lint/suspicious/noExplicitAny: example payloads are untyped JSON, edited per scenario
export type EditablePayload = Record<string, any>;

/** A real example payload (@octokit/webhooks-examples) edited to the benchmark's repository. */
export function payload(
  event: string,
  action: string | undefined,
  options: { sender?: string; cloneUrl?: string; edit?: (p: EditablePayload) => void } = {},
): EditablePayload {
  const p = examplePayload(event, action) as EditablePayload;
  const sender = options.sender ?? 'alice';
  p.repository = {
    id: REPOSITORY_ID,
    node_id: 'R_1',
    name: 'widgets',
    full_name: REPOSITORY,
    owner: { login: 'octo', id: 1, type: 'Organization' },
    clone_url: options.cloneUrl ?? 'https://github.example/octo/widgets.git',
    html_url: 'https://github.example/octo/widgets',
    default_branch: 'main',
    private: false,
  };
  p.installation = { id: INSTALLATION_ID, node_id: 'I_1' };
  p.sender = { login: sender, id: sender.length, type: sender.endsWith('[bot]') ? 'Bot' : 'User' };
  options.edit?.(p);
  return p;
}

/** POSTs a signed delivery; resolves with the status and how long the answer took (ms). */
export async function deliver(
  url: string,
  secret: string,
  event: string,
  body: Record<string, unknown>,
  id?: string,
): Promise<{ status: number; ms: number; text: string }> {
  const text = JSON.stringify(body);
  const started = performance.now();
  const res = await fetch(`${url}/api/github/webhooks`, {
    method: 'POST',
    headers: deliveryHeaders(secret, event, text, id),
    body: text,
  });
  const answer = await res.text();
  return { status: res.status, ms: performance.now() - started, text: answer };
}

/** A failed check suite on a commit of the pull request, as GitHub sends it. */
export function ciFailure(headSha: string, prNumber: number, suiteId: number): EditablePayload {
  return payload('check_suite', 'completed', {
    edit: (p) => {
      p.check_suite.id = suiteId;
      p.check_suite.head_sha = headSha;
      p.check_suite.status = 'completed';
      p.check_suite.conclusion = 'failure';
      p.check_suite.app = { ...p.check_suite.app, slug: 'ci-bot' };
      p.check_suite.pull_requests = [
        {
          number: prNumber,
          head: { ref: 'agent/1', sha: headSha },
          base: { ref: 'main', sha: headSha },
        },
      ];
    },
  });
}
