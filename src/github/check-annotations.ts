import type { Octokit } from './octokit.js';
import type { Block } from './truncate.js';
import { unavailable } from './unavailable.js';

type Annotation = Awaited<ReturnType<Octokit['rest']['checks']['listAnnotations']>>['data'][number];

const MAX_ANNOTATIONS = 50;
const LEVELS = ['failure', 'warning', 'notice'];

/**
 * The first annotations of a check run, failures first, one line each, and the first failure's
 * line (for the failure's signature); undefined when it has none, and a note in their place when
 * they cannot be fetched.
 */
export async function annotationsBlock(
  octokit: Octokit,
  owner: string,
  repo: string,
  run: { id: number; output: { annotations_count: number } },
): Promise<{ block: Block; firstFailure?: string | undefined } | undefined> {
  if (run.output.annotations_count === 0) return undefined;
  let annotations: Annotation[];
  try {
    ({ data: annotations } = await octokit.rest.checks.listAnnotations({
      owner,
      repo,
      check_run_id: run.id,
      per_page: MAX_ANNOTATIONS,
    }));
  } catch (error) {
    return { block: { fixed: unavailable('annotations', error) } };
  }
  if (annotations.length === 0) return undefined;
  const level = (a: Annotation) => {
    const i = LEVELS.indexOf(a.annotation_level ?? '');
    return i === -1 ? LEVELS.length : i;
  };
  const sorted = [...annotations].sort((a, b) => level(a) - level(b));
  const lines = sorted.map(annotationLine);
  const total = run.output.annotations_count ?? annotations.length;
  const more = total > annotations.length ? ` (the first ${annotations.length} of ${total})` : '';
  return {
    block: { join: '\n', blocks: [{ fixed: `Annotations${more}:` }, { head: lines.join('\n') }] },
    firstFailure: sorted[0]?.annotation_level === 'failure' ? lines[0] : undefined,
  };
}

/** `path:line [level] title: message`, a multi-line message indented under it. */
function annotationLine(a: Annotation): string {
  const lines = a.end_line && a.end_line !== a.start_line ? `-${a.end_line}` : '';
  const where = a.start_line ? `${a.path}:${a.start_line}${lines}` : a.path;
  const message = (a.message ?? '').trim();
  const title = a.title && !message.includes(a.title) ? `${a.title}: ` : '';
  return `${where} [${a.annotation_level ?? 'notice'}] ${title}${message.replace(/\n/g, '\n  ')}`;
}
