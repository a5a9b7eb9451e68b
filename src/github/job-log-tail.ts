import type { Octokit } from './octokit.js';
import { type Block, fenceFor } from './truncate.js';
import { unavailable } from './unavailable.js';

// Job log lines held while streaming: enough to find the last error behind the post-job cleanup.
const LOG_WINDOW = 2_000;
const MAX_LOG_LINE = 64 * 1024;

export interface LogOptions {
  lines: number;
  stripTimestamps: boolean;
}

/**
 * The tail of a GitHub Actions job log, cleaned, up to its last error, as a fenced block whose
 * earlier lines are cut first; a failed download is said in its place.
 */
export async function logTailBlock(
  octokit: Octokit,
  owner: string,
  repo: string,
  jobId: number,
  { lines: wanted, stripTimestamps }: LogOptions,
): Promise<{ block: Block; lastError?: string | undefined }> {
  let read: { lines: string[]; total: number };
  try {
    // GitHub answers with a redirect to the log file, which fetch follows; the body is streamed
    // so that a long log is never held whole.
    const response = await octokit.rest.actions.downloadJobLogsForWorkflowRun({
      owner,
      repo,
      job_id: jobId,
      request: { parseSuccessResponseBody: false },
    });
    read = await lastLines(response.data as unknown, LOG_WINDOW);
  } catch (error) {
    return { block: { fixed: unavailable('log', error) } };
  }
  const lines = read.lines.map((line) => cleanLogLine(line, stripTimestamps));
  // The last error ends the failing step; what follows is post-job cleanup.
  const lastError = lines.findLastIndex((line) => line.includes('##[error]'));
  const upToError = lastError === -1 ? lines : lines.slice(0, lastError + 1);
  const after = lines.length - upToError.length;
  const tail = upToError.slice(-wanted);
  const earlier = read.total - after - tail.length;
  const heading =
    lastError === -1
      ? `Job log (job ${jobId}), the last ${tail.length} lines:`
      : `Job log (job ${jobId}), the ${tail.length} lines up to its last error${after > 0 ? ` (${after} later lines left out)` : ''}:`;
  const text = tail.join('\n');
  const fence = fenceFor(text);
  return {
    block: {
      join: '\n',
      blocks: [
        { fixed: heading },
        { fixed: `${fence}text` },
        { tail: text, cutBefore: earlier },
        { fixed: fence },
      ],
    },
    lastError: lastError === -1 ? undefined : lines[lastError],
  };
}

/** The last `window` lines of a log body (a stream, text or bytes) and how many lines it had. */
export async function lastLines(
  body: unknown,
  window: number,
): Promise<{ lines: string[]; total: number }> {
  const decoder = new TextDecoder();
  let held: string[] = [];
  let total = 0;
  let partial = '';
  const take = (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop()!.slice(-MAX_LOG_LINE);
    for (const part of parts) held.push(part);
    total += parts.length;
    if (held.length > 2 * window) held = held.slice(-window);
  };
  if (typeof body === 'string') take(body);
  else if (body instanceof ArrayBuffer) take(decoder.decode(body));
  else if (isAsyncIterable(body)) {
    for await (const chunk of body) {
      take(decoder.decode(chunk, { stream: true }));
    }
    take(decoder.decode());
  }
  if (partial) {
    held.push(partial);
    total++;
  }
  return { lines: held.slice(-window), total };
}

const isAsyncIterable = (x: unknown): x is AsyncIterable<Uint8Array> =>
  typeof (x as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';

// CSI sequences (colours, cursor), OSC sequences (titles, links) and two-character escapes.
const ANSI =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape codes is the point.
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?/;

/** A log line as a terminal would show it, without GitHub's timestamp if asked. */
export function cleanLogLine(raw: string, stripTimestamp = true): string {
  let line = raw.replace(/^\uFEFF/, '').replace(/\r$/, '');
  const stamp = TIMESTAMP.exec(line)?.[0] ?? '';
  line = line.slice(stamp.length);
  // A carriage return redraws the line (progress bars): only the last drawing is seen.
  line = line.slice(line.lastIndexOf('\r') + 1).replace(ANSI, '');
  return stripTimestamp ? line : stamp + line;
}
