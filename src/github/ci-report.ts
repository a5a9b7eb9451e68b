import type { Octokit } from './octokit.js';
import { type Block, dropHtmlComments, fenceFor, fitBlock, keepHead } from './truncate.js';

type CheckRun = Awaited<
  ReturnType<Octokit['rest']['checks']['listForRef']>
>['data']['check_runs'][number];
type Annotation = Awaited<ReturnType<Octokit['rest']['checks']['listAnnotations']>>['data'][number];
type CommitStatus = Awaited<
  ReturnType<Octokit['rest']['repos']['getCombinedStatusForRef']>
>['data']['statuses'][number];

/**
 * Check run conclusions that fail a commit, in the order they are detailed: a cancelled run is
 * often collateral (a fail-fast matrix cancels its siblings), so it comes after real failures.
 * `neutral`, `skipped` and `stale` (never finished, marked by GitHub after 14 days) do not count.
 */
export const FAILED_CONCLUSIONS = [
  'failure',
  'timed_out',
  'startup_failure',
  'action_required',
  'cancelled',
] as const;
const FAILED_STATES = new Set(['failure', 'error']);

// Bounds on the API calls one report makes: 5 pages of check runs, 1 combined status,
// annotations for 10 checks (one page each), logs for 5 jobs.
const MAX_CHECK_RUN_PAGES = 5;
const MAX_DETAILED = 10;
const MAX_LOGS = 5;
const MAX_ANNOTATIONS = 50;
// Job log lines held while streaming: enough to find the last error behind the post-job cleanup.
const LOG_WINDOW = 2_000;
const MAX_LOG_LINE = 64 * 1024;

export interface CiReportOptions {
  owner: string;
  repo: string;
  headSha: string;
  /** The size limit of the whole text, in characters (20,000). */
  maxChars?: number;
  /** How many lines of each job log to keep (100). */
  logLines?: number;
  /** Remove the timestamp GitHub puts at the start of every log line (true). */
  stripTimestamps?: boolean;
}

export interface CiReport {
  /** Markdown for the agent: each failed check with its output, annotations and log tail. */
  text: string;
  /** The names of all failed check runs and the contexts of all failed commit statuses. */
  failedChecks: string[];
}

/**
 * What a coding agent is told when CI fails on its commit: the failed check runs of headSha (up to
 * 10 detailed with output and annotations, the log tail of up to 5 GitHub Actions jobs) and its
 * failed commit statuses, within maxChars. An error fetching one check's details is said in its
 * place; only when both listings fail does this throw (so a job retries).
 */
export async function buildCiReport(
  octokit: Octokit,
  {
    owner,
    repo,
    headSha,
    maxChars = 20_000,
    logLines = 100,
    stripTimestamps = true,
  }: CiReportOptions,
): Promise<CiReport> {
  const [runsResult, statusesResult] = await Promise.allSettled([
    failedCheckRuns(octokit, owner, repo, headSha),
    failedStatuses(octokit, owner, repo, headSha),
  ]);
  if (runsResult.status === 'rejected' && statusesResult.status === 'rejected') {
    throw runsResult.reason;
  }
  const runs = runsResult.status === 'fulfilled' ? runsResult.value : [];
  const statuses = statusesResult.status === 'fulfilled' ? statusesResult.value : [];
  const notes: Block[] = [];
  if (runsResult.status === 'rejected') {
    notes.push({ fixed: unavailable('check runs', runsResult.reason) });
  }
  if (statusesResult.status === 'rejected') {
    notes.push({ fixed: unavailable('commit statuses', statusesResult.reason) });
  }

  const detailed = runs.slice(0, MAX_DETAILED);
  const logged = new Set(
    detailed
      .filter((run) => jobIdOf(run) !== undefined)
      .slice(0, MAX_LOGS)
      .map((run) => run.id),
  );
  const log = { lines: logLines, stripTimestamps };
  const sections = await Promise.all(
    detailed.map((run) =>
      checkSection(octokit, owner, repo, run, logged.has(run.id) ? log : undefined),
    ),
  );
  const rest = runs.slice(MAX_DETAILED);
  const blocks: Block[] = [
    { fixed: headline(headSha, runs.length, statuses.length) },
    ...notes,
    ...sections,
  ];
  if (rest.length > 0) {
    blocks.push({
      head: `Also failed, not detailed here: ${rest.map((r) => `${r.name} (${r.conclusion})`).join(', ')}`,
    });
  }
  if (statuses.length > 0) blocks.push(statusSection(statuses));

  const failedChecks = [
    ...new Set([...runs.map((r) => r.name), ...statuses.map((s) => s.context)]),
  ];
  return { text: fitBlock({ join: '\n\n', blocks }, maxChars), failedChecks };
}

function headline(sha: string, runs: number, statuses: number): string {
  const short = sha.slice(0, 7);
  if (runs + statuses === 0) {
    return `No failed check run or commit status was found on commit ${short}.`;
  }
  const parts = [
    runs > 0 ? `${runs} check run${runs === 1 ? '' : 's'}` : '',
    statuses > 0 ? `${statuses} commit status${statuses === 1 ? '' : 'es'}` : '',
  ].filter(Boolean);
  return `CI failed on commit ${short}: ${parts.join(' and ')} failed.`;
}

async function failedCheckRuns(octokit: Octokit, owner: string, repo: string, ref: string) {
  let pages = 0;
  const runs = await octokit.paginate(
    octokit.rest.checks.listForRef,
    { owner, repo, ref, filter: 'latest', per_page: 100 },
    (response, done) => {
      if (++pages >= MAX_CHECK_RUN_PAGES) done();
      return response.data.filter((run) => rankOf(run) >= 0);
    },
  );
  return runs.sort((a, b) => rankOf(a) - rankOf(b) || a.name.localeCompare(b.name));
}

const rankOf = (run: CheckRun) =>
  (FAILED_CONCLUSIONS as readonly string[]).indexOf(run.conclusion ?? '');

async function failedStatuses(octokit: Octokit, owner: string, repo: string, ref: string) {
  const { data } = await octokit.rest.repos.getCombinedStatusForRef({
    owner,
    repo,
    ref,
    per_page: 100,
  });
  return data.statuses.filter((s) => FAILED_STATES.has(s.state));
}

const JOB_URL = /\/actions\/runs\/\d+\/job\/(\d+)/;

/** The GitHub Actions job behind a check run (its id is the check run's), if it is one. */
function jobIdOf(run: CheckRun): number | undefined {
  const match = run.details_url?.match(JOB_URL);
  if (match) return Number(match[1]);
  return run.app?.slug === 'github-actions' ? run.id : undefined;
}

interface LogOptions {
  lines: number;
  stripTimestamps: boolean;
}

async function checkSection(
  octokit: Octokit,
  owner: string,
  repo: string,
  run: CheckRun,
  log: LogOptions | undefined,
): Promise<Block> {
  const jobId = jobIdOf(run);
  const [annotations, logBlock] = await Promise.all([
    annotationsBlock(octokit, owner, repo, run),
    log && jobId !== undefined ? logTailBlock(octokit, owner, repo, jobId, log) : undefined,
  ]);
  const url = run.details_url || run.html_url;
  const blocks: Block[] = [
    {
      fixed: [`### ${run.name} (${run.conclusion})`, ...(url ? [`Details: ${url}`] : [])].join(
        '\n',
      ),
    },
  ];
  const title = run.output.title?.trim();
  if (title && title !== run.name) blocks.push({ fixed: `**${keepHead(title, 200)}**` });
  const summary = dropHtmlComments(run.output.summary ?? '');
  if (summary) blocks.push({ head: summary });
  if (annotations) blocks.push(annotations);
  if (logBlock) blocks.push(logBlock);
  return { join: '\n\n', blocks };
}

const LEVELS = ['failure', 'warning', 'notice'];

async function annotationsBlock(
  octokit: Octokit,
  owner: string,
  repo: string,
  run: CheckRun,
): Promise<Block | undefined> {
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
    return { fixed: unavailable('annotations', error) };
  }
  if (annotations.length === 0) return undefined;
  const level = (a: Annotation) => {
    const i = LEVELS.indexOf(a.annotation_level ?? '');
    return i === -1 ? LEVELS.length : i;
  };
  const lines = [...annotations].sort((a, b) => level(a) - level(b)).map(annotationLine);
  const total = run.output.annotations_count ?? annotations.length;
  const more = total > annotations.length ? ` (the first ${annotations.length} of ${total})` : '';
  return { join: '\n', blocks: [{ fixed: `Annotations${more}:` }, { head: lines.join('\n') }] };
}

/** `path:line [level] title: message`, a multi-line message indented under it. */
function annotationLine(a: Annotation): string {
  const lines = a.end_line && a.end_line !== a.start_line ? `-${a.end_line}` : '';
  const where = a.start_line ? `${a.path}:${a.start_line}${lines}` : a.path;
  const message = (a.message ?? '').trim();
  const title = a.title && !message.includes(a.title) ? `${a.title}: ` : '';
  return `${where} [${a.annotation_level ?? 'notice'}] ${title}${message.replace(/\n/g, '\n  ')}`;
}

async function logTailBlock(
  octokit: Octokit,
  owner: string,
  repo: string,
  jobId: number,
  { lines: wanted, stripTimestamps }: LogOptions,
): Promise<Block> {
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
    return { fixed: unavailable('log', error) };
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
    join: '\n',
    blocks: [
      { fixed: heading },
      { fixed: `${fence}text` },
      { tail: text, cutBefore: earlier },
      { fixed: fence },
    ],
  };
}

/** The last `window` lines of a log body (a stream, text or bytes) and how many lines it had. */
async function lastLines(
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

function statusSection(statuses: CommitStatus[]): Block {
  const lines = statuses.map((s) => {
    const description = s.description ? `: ${s.description}` : '';
    const target = s.target_url ? ` (${s.target_url})` : '';
    return `- ${s.context} (${s.state})${description}${target}`;
  });
  return {
    join: '\n',
    blocks: [{ fixed: '### Failed commit statuses' }, { head: lines.join('\n') }],
  };
}

function unavailable(what: string, error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  const reason =
    typeof status === 'number' ? status : error instanceof Error ? error.message : String(error);
  return `(${what} unavailable: ${reason})`;
}
