/** A Markdown code fence longer than any run of backticks in text, so text cannot close it. */
export function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(Math.max(3, longest + 1));
}

/**
 * Text in a fenced code block it cannot break out of: on GitHub nothing in it is rendered, so
 * closing keywords and mentions in it do nothing; to an agent it is quoted material.
 */
export function fenced(text: string, info = ''): string {
  const fence = fenceFor(text);
  return `${fence}${info}\n${text}\n${fence}`;
}

/** The info string of a fence around material that is not instructions (`untrusted`). */
export const UNTRUSTED = 'untrusted';

/** Material from someone who is not the task's author: fenced, and marked so. */
export const quotedUntrusted = (text: string) => fenced(text, UNTRUSTED);
