import { FAILED_CONCLUSIONS, isFailedConclusion } from '../sessions/ci-conclusions.js';
import { ciFailureSignature } from '../sessions/guards.js';
import { visibleMarkdown } from '../shared/visible-text.js';
import { annotationsBlock } from './check-annotations.js';
import { type LogOptions, logTailBlock } from './job-log-tail.js';
import type { Octokit } from './octokit.js';
import { type Block, fitBlock, keepHead } from './truncate.js';
import { unavailable } from './unavailable.js';

type CheckRun = Awaited<
  ReturnType<Octokit['rest']['checks']['listForRef']>
>['data']['check_runs'][number];
type CommitStatus = Awaited<
  ReturnType<Octokit['rest']['repos']['getCombinedStatusForRef']>
>['data']['statuses'][number];

// Bounds on the API calls one report makes: 5 pages of check runs, 1 combined status,
// annotations for 10 checks (one page each), logs for 5 jobs.
const MAX_CHECK_RUN_PAGES = 5;
const MAX_DETAILED = 10;
const MAX_LOGS = 5;

export interface CiReportOptions {
  owner: string;
  repo: string;
  headSha: string;
  /** The run or status whose failure asked for the report, named in its headline. */
  trigger?: { name: string; event: string } | undefined;
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
  /** The failure's signature: the failed checks and the first error (sessions/guards.ts). */
  signature: string;
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
    trigger,
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
    { fixed: headline(headSha, trigger, runs.length, statuses.length) },
    ...notes,
    ...sections.map((s) => s.block),
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
  const firstError = sections.find((s) => s.firstError)?.firstError ?? '';
  return {
    text: fitBlock({ join: '\n\n', blocks }, maxChars),
    failedChecks,
    signature: ciFailureSignature({ checks: failedChecks, firstError }),
  };
}

/** `CI failed on commit abc1234 (unit tests, check_suite:555:1): 1 check run failed.` */
function headline(
  sha: string,
  trigger: CiReportOptions['trigger'],
  runs: number,
  statuses: number,
): string {
  const commit = `commit ${sha.slice(0, 7)}${trigger ? ` (${trigger.name}, ${trigger.event})` : ''}`;
  if (runs + statuses === 0) {
    return `No failed check run or commit status was found on ${commit}.`;
  }
  const parts = [
    runs > 0 ? `${runs} check run${runs === 1 ? '' : 's'}` : '',
    statuses > 0 ? `${statuses} commit status${statuses === 1 ? '' : 'es'}` : '',
  ].filter(Boolean);
  return `CI failed on ${commit}: ${parts.join(' and ')} failed.`;
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
  return data.statuses.filter((s) => isFailedConclusion(s.state));
}

const JOB_URL = /\/actions\/runs\/\d+\/job\/(\d+)/;

/** The GitHub Actions job behind a check run (its id is the check run's), if it is one. */
function jobIdOf(run: CheckRun): number | undefined {
  const match = run.details_url?.match(JOB_URL);
  if (match) return Number(match[1]);
  return run.app?.slug === 'github-actions' ? run.id : undefined;
}

async function checkSection(
  octokit: Octokit,
  owner: string,
  repo: string,
  run: CheckRun,
  log: LogOptions | undefined,
): Promise<{ block: Block; firstError?: string | undefined }> {
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
  // Markdown that GitHub renders: what it hides stays hidden.
  const summary = visibleMarkdown(run.output.summary ?? '');
  if (summary) blocks.push({ head: summary });
  if (annotations) blocks.push(annotations.block);
  if (logBlock) blocks.push(logBlock.block);
  return {
    block: { join: '\n\n', blocks },
    firstError: annotations?.firstFailure ?? logBlock?.lastError ?? title,
  };
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
