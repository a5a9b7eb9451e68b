import { describe, expect, it } from 'vitest';
import { pullRequestBody } from '../../src/runner/pull-request-body.js';

const session = { id: 's-abc12345', issueNumber: 12, agent: 'claude-code' };

/** The lines of the body outside fenced code blocks: what GitHub acts on. */
function live(body: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of body.split('\n')) {
    const opener = /^(`{3,})/.exec(line)?.[1];
    if (fence) {
      if (line.trim() === fence) fence = undefined;
    } else if (opener) fence = opener;
    else out.push(line);
  }
  return out;
}

describe('pullRequestBody', () => {
  it("closes the session's issue, and only that one: the summary's keywords and mentions are quoted", () => {
    const summary =
      'Fixed the crash. Fixes #99, closes octo/other#3.\n\ncc @org/team @alice\n```\nstill quoted\n```';
    const body = pullRequestBody(session, summary);

    expect(body.startsWith('Closes #12\n\n## Summary from the agent\n\n````text\n')).toBe(true);
    expect(body).toContain(summary);
    const outside = live(body).join('\n');
    expect(outside).toContain('Closes #12');
    expect(outside).not.toMatch(/#99|#3|@org\/team|@alice|still quoted/);
  });

  it('keeps the fence longer than any run of backticks in the summary', () => {
    const body = pullRequestBody(session, 'a `````` run, then\n```````\nFixes #7');
    expect(live(body).join('\n')).not.toContain('Fixes #7');
  });

  it('removes invisible characters, so the summary hides nothing from a reviewer', () => {
    expect(pullRequestBody(session, 'Done\u202e.\u200b')).toContain('```text\nDone.\n```');
  });

  it('has no summary section without a summary', () => {
    expect(pullRequestBody(session, '  ')).toBe(
      'Closes #12\n\n---\nOpened by Agent Orchestrator for session `s-abc12345` (claude-code).',
    );
  });
});
