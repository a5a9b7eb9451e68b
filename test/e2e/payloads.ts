import { examplePayload } from '../helpers/webhooks.js';

export const REPOSITORY = 'octo/widgets';
export const REPOSITORY_ID = 4242;
export const INSTALLATION = 7;

// biome-ignore lint/suspicious/noExplicitAny: example payloads are untyped JSON, edited freely per scenario
export type EditablePayload = Record<string, any>;

/** A GitHub account as payloads carry it; a login ending in [bot] is a bot. */
export const user = (login: string, type = login.endsWith('[bot]') ? 'Bot' : 'User') => ({
  login,
  id: login.length,
  type,
});

export type Payloads = ReturnType<typeof payloadsFor>;

/**
 * Builders of real example payloads (@octokit/webhooks-examples) edited to this repository, whose
 * clone URL is the given origin, and to this installation.
 */
export function payloadsFor(cloneUrl: string) {
  /** A real example payload of the event, edited to this repository, installation and sender. */
  function payload(
    event: string,
    action: string | undefined,
    sender: string,
    edit: (p: EditablePayload) => void = () => {},
  ): EditablePayload {
    const p = examplePayload(event, action) as EditablePayload;
    p.repository = {
      id: REPOSITORY_ID,
      node_id: 'R_1',
      name: 'widgets',
      full_name: REPOSITORY,
      owner: { login: 'octo', id: 1, type: 'Organization' },
      clone_url: cloneUrl,
      html_url: `https://github.example/${REPOSITORY}`,
      default_branch: 'main',
      private: false,
    };
    p.installation = { id: INSTALLATION, node_id: 'I_1' };
    p.sender = user(sender);
    edit(p);
    return p;
  }

  const issue = (number: number, title = `Issue ${number}`, body = 'Please fix it.') => ({
    number,
    title,
    body,
    html_url: `https://github.example/${REPOSITORY}/issues/${number}`,
    state: 'open',
    user: user('alice'),
  });

  return {
    payload,
    issue,
    /** The labelled-with-`agent` delivery a maintainer's click sends. */
    labelled: (number: number, title?: string, body?: string, sender = 'alice') =>
      payload('issues', 'labeled', sender, (p) => {
        p.issue = issue(number, title, body);
        p.label = { ...p.label, name: 'agent' };
      }),
    /** An `issue_comment.created` delivery; add the comment to the local GitHub too, as GitHub has it. */
    commented: (number: number, sender: string, body: string, commentId: number) =>
      payload('issue_comment', 'created', sender, (p) => {
        p.issue = issue(number);
        p.comment = { ...p.comment, id: commentId, body, user: user(sender) };
      }),
  };
}
