import nock from 'nock';
import { ProbotOctokit } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCiReport } from '../../src/github/ci-report.js';
import { cleanLogLine } from '../../src/github/job-log-tail.js';

const API = 'https://api.github.com';
const BLOB = 'https://productionresultssa1.blob.core.windows.net';
const SHA = 'd6fde92930d4715a2b49857d24b940956b26d2d3';
const REPO_PATH = '/repos/octo/widgets';

const octokit = () =>
  new ProbotOctokit({
    auth: { token: 'test' },
    retry: { enabled: false },
    throttle: { enabled: false },
  });

const APPS = {
  actions: {
    id: 15368,
    slug: 'github-actions',
    node_id: 'MDM6QXBwMTUzNjg=',
    name: 'GitHub Actions',
  },
  ci: { id: 9426, slug: 'buildkite', node_id: 'MDM6QXBwOTQyNg==', name: 'Buildkite' },
};

/** A check run as `GET /repos/{o}/{r}/commits/{ref}/check-runs` lists it. */
function checkRun(
  id: number,
  name: string,
  conclusion: string | null,
  more: {
    app?: keyof typeof APPS;
    title?: string | null;
    summary?: string | null;
    annotations?: number;
    detailsUrl?: string;
  } = {},
) {
  const app = APPS[more.app ?? 'actions'];
  return {
    id,
    name,
    node_id: `CR_kwDO${id}`,
    head_sha: SHA,
    external_id: '',
    url: `${API}${REPO_PATH}/check-runs/${id}`,
    html_url: `https://github.com/octo/widgets/runs/${id}`,
    details_url:
      more.detailsUrl ??
      (app.slug === 'github-actions'
        ? `https://github.com/octo/widgets/actions/runs/9001/job/${id}`
        : `https://buildkite.com/octo/widgets/builds/77#${id}`),
    status: conclusion ? 'completed' : 'in_progress',
    conclusion,
    started_at: '2024-05-02T10:00:00Z',
    completed_at: conclusion ? '2024-05-02T10:03:12Z' : null,
    output: {
      title: more.title ?? null,
      summary: more.summary ?? null,
      text: null,
      annotations_count: more.annotations ?? 0,
      annotations_url: `${API}${REPO_PATH}/check-runs/${id}/annotations`,
    },
    check_suite: { id: 5500 },
    app: {
      ...app,
      owner: { login: 'github', id: 9919, type: 'Organization' },
      description: '',
      external_url: '',
      html_url: '',
      created_at: '',
      updated_at: '',
      permissions: {},
      events: [],
    },
    pull_requests: [],
  };
}

function annotation(
  path: string,
  line: number,
  level: string,
  message: string,
  title: string | null = null,
) {
  return {
    path,
    blob_href: `https://github.com/octo/widgets/blob/${SHA}/${path}`,
    start_line: line,
    end_line: line,
    start_column: null,
    end_column: null,
    annotation_level: level,
    title,
    message,
    raw_details: null,
  };
}

function commitStatus(
  context: string,
  state: string,
  description: string | null,
  targetUrl: string | null,
) {
  return {
    url: `${API}${REPO_PATH}/statuses/${SHA}`,
    avatar_url: null,
    id: context.length * 1000,
    node_id: 'SC_kwDO',
    state,
    description,
    target_url: targetUrl,
    context,
    created_at: '2024-05-02T10:00:00Z',
    updated_at: '2024-05-02T10:04:00Z',
  };
}

function combined(statuses: ReturnType<typeof commitStatus>[]) {
  const state = statuses.some((s) => s.state !== 'success') ? 'failure' : 'success';
  return {
    state,
    statuses,
    sha: SHA,
    total_count: statuses.length,
    commit_url: `${API}${REPO_PATH}/commits/${SHA}`,
    url: `${API}${REPO_PATH}/commits/${SHA}/status`,
  };
}

const at = (s: number) => `2024-05-02T10:01:${String(s % 60).padStart(2, '0')}.1234567Z `;

/** A GitHub Actions job log as downloaded: BOM, timestamps, colours, cleanup after the error. */
function jobLog(passing: number): string {
  const lines = [
    `\uFEFF${at(0)}Current runner version: '2.316.0'`,
    `${at(1)}##[group]Run npm test`,
    ...Array.from(
      { length: passing },
      (_, i) => `${at(i)}\u001b[32m✓\u001b[39m test/widget.test.ts > case ${i + 1} passes`,
    ),
    `${at(58)}\u001b[31m\u001b[1mFAIL\u001b[22m\u001b[39m test/save.test.ts > save > handles null`,
    `${at(58)}TypeError: Cannot read properties of null (reading 'path')`,
    `${at(59)}##[error]Process completed with exit code 1.`,
    `${at(59)}Post job cleanup.`,
    `${at(59)}[command]/usr/bin/git version`,
    `${at(59)}Cleaning up orphan processes`,
  ];
  return `${lines.join('\n')}\n`;
}

function mockChecks(runs: unknown[]) {
  nock(API)
    .get(`${REPO_PATH}/commits/${SHA}/check-runs`)
    .query({ filter: 'latest', per_page: '100' })
    .reply(200, { total_count: runs.length, check_runs: runs });
}
function mockStatuses(statuses: ReturnType<typeof commitStatus>[]) {
  nock(API)
    .get(`${REPO_PATH}/commits/${SHA}/status`)
    .query({ per_page: '100' })
    .reply(200, combined(statuses));
}
function mockAnnotations(id: number, annotations: unknown[]) {
  nock(API)
    .get(`${REPO_PATH}/check-runs/${id}/annotations`)
    .query({ per_page: '50' })
    .reply(200, annotations);
}
/** GitHub redirects to the log file on another host; the token must not follow it there. */
function mockLog(jobId: number, text: string) {
  const file = `/actions-results/5d4c/workflow-job-run-${jobId}/logs/job/job-logs.txt`;
  nock(API)
    .get(`${REPO_PATH}/actions/jobs/${jobId}/logs`)
    .reply(302, '', {
      Location: `${BLOB}${file}?rsct=text%2Fplain&se=2024-05-02T10%3A20%3A00Z&sig=abc`,
    });
  nock(BLOB, { badheaders: ['authorization'] })
    .get(file)
    .query(true)
    .reply(200, text, { 'Content-Type': 'text/plain' });
}

describe('buildCiReport', () => {
  let unmatched: string[];
  const onNoMatch = (req: { method?: string; path?: string; href?: string }) =>
    unmatched.push(`${req.method} ${req.href ?? req.path}`);
  beforeEach(() => {
    nock.disableNetConnect();
    unmatched = [];
    nock.emitter.on('no match', onNoMatch);
  });
  afterEach(() => {
    nock.emitter.removeListener('no match', onNoMatch);
    const pending = nock.pendingMocks();
    nock.cleanAll();
    nock.enableNetConnect();
    expect(pending).toEqual([]);
    expect(unmatched).toEqual([]);
  });

  it('details a failed Actions job with its output, annotations and the log tail up to its last error, without colours or timestamps', async () => {
    mockChecks([
      checkRun(101, 'lint', 'success', { title: 'No problems' }),
      checkRun(102, 'test (20.x)', 'failure', {
        title: '1 test failed',
        summary: 'save() threw on null input',
        annotations: 2,
      }),
    ]);
    mockStatuses([]);
    mockAnnotations(102, [
      annotation('.github', 1, 'failure', 'Process completed with exit code 1.'),
      annotation(
        'src/save.ts',
        14,
        'failure',
        "TypeError: Cannot read properties of null (reading 'path')",
        'save > handles null',
      ),
    ]);
    mockLog(102, jobLog(150));

    const report = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });

    expect(report.failedChecks).toEqual(['test (20.x)']);
    const { text } = report;
    expect(text).toContain('CI failed on commit d6fde92: 1 check run failed.');
    expect(text).toContain('### test (20.x) (failure)');
    expect(text).toContain('Details: https://github.com/octo/widgets/actions/runs/9001/job/102');
    expect(text).toContain('**1 test failed**');
    expect(text).toContain('save() threw on null input');
    expect(text).toContain(
      "src/save.ts:14 [failure] save > handles null: TypeError: Cannot read properties of null (reading 'path')",
    );
    expect(text).toContain('.github:1 [failure] Process completed with exit code 1.');
    expect(text).not.toContain('lint');

    const log = text.slice(text.indexOf('Job log'));
    expect(log).toContain('the 100 lines up to its last error (3 later lines left out):');
    expect(log).toContain(
      '✓ test/widget.test.ts > case 150 passes\nFAIL test/save.test.ts > save > handles null\n',
    );
    expect(log).toContain('##[error]Process completed with exit code 1.\n```');
    expect(log).toContain('[… 55 lines truncated]\n✓ test/widget.test.ts > case 54 passes');
    expect(log).not.toContain('case 53 passes');
    expect(log).not.toContain('Cleaning up orphan processes');
    for (const hidden of ['\u001b', '\uFEFF', '2024-05-02T10:01'])
      expect(text).not.toContain(hidden);
  });

  it('details a check of another CI app from its output and annotations, asks for no Actions log, and lists failed commit statuses', async () => {
    mockChecks([
      checkRun(201, 'buildkite/widgets', 'cancelled', { app: 'ci' }),
      checkRun(202, 'docs', 'neutral'),
      checkRun(203, 'deploy preview', 'skipped'),
      checkRun(204, 'e2e', null),
      checkRun(205, 'buildkite/unit', 'timed_out', {
        app: 'ci',
        title: 'Timed out after 30 minutes',
        annotations: 1,
      }),
    ]);
    mockStatuses([
      commitStatus(
        'ci/jenkins',
        'failure',
        'Build #88 failed in 4m',
        'https://jenkins.example.com/job/widgets/88/',
      ),
      commitStatus('codecov/patch', 'error', null, null),
      commitStatus('license/cla', 'success', 'All signed', 'https://cla.example.com/'),
      commitStatus('ci/slow', 'pending', 'Running', null),
    ]);
    mockAnnotations(205, [
      annotation('test/e2e/save.spec.ts', 40, 'warning', 'Test exceeded its 60 s budget'),
    ]);

    const report = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });

    expect(report.failedChecks).toEqual([
      'buildkite/unit',
      'buildkite/widgets',
      'ci/jenkins',
      'codecov/patch',
    ]);
    const { text } = report;
    expect(text).toContain(
      'CI failed on commit d6fde92: 2 check runs and 2 commit statuses failed.',
    );
    // A real failure is detailed before a cancelled run, which is often collateral.
    expect(text.indexOf('### buildkite/unit (timed_out)')).toBeLessThan(
      text.indexOf('### buildkite/widgets (cancelled)'),
    );
    expect(text).toContain('Details: https://buildkite.com/octo/widgets/builds/77#205');
    expect(text).toContain('test/e2e/save.spec.ts:40 [warning] Test exceeded its 60 s budget');
    expect(text).not.toContain('Job log');
    expect(text).toContain(
      '### Failed commit statuses\n- ci/jenkins (failure): Build #88 failed in 4m (https://jenkins.example.com/job/widgets/88/)\n- codecov/patch (error)',
    );
    expect(text).not.toMatch(/docs|deploy preview|e2e \(|license\/cla|ci\/slow/);
  });

  it('says which details could not be fetched and still reports the other checks', async () => {
    mockChecks([
      checkRun(301, 'build', 'failure', { annotations: 3 }),
      checkRun(302, 'test', 'failure', { annotations: 1 }),
    ]);
    mockStatuses([]);
    nock(API)
      .get(`${REPO_PATH}/check-runs/301/annotations`)
      .query(true)
      .reply(500, { message: 'Server Error' });
    nock(API)
      .get(`${REPO_PATH}/actions/jobs/301/logs`)
      .reply(410, { message: 'Gone', documentation_url: 'https://docs.github.com/rest' });
    mockAnnotations(302, [annotation('src/a.ts', 3, 'failure', 'expected 1 to be 2')]);
    mockLog(302, jobLog(3));

    const { text } = await buildCiReport(octokit(), {
      owner: 'octo',
      repo: 'widgets',
      headSha: SHA,
    });

    const build = text.slice(text.indexOf('### build'), text.indexOf('### test'));
    expect(build).toContain('(annotations unavailable: 500)');
    expect(build).toContain('(log unavailable: 410)');
    const test = text.slice(text.indexOf('### test'));
    expect(test).toContain('src/a.ts:3 [failure] expected 1 to be 2');
    expect(test).toContain('##[error]Process completed with exit code 1.');
  });

  it('reads every page of check runs but details at most 10 failed checks and fetches at most 5 logs', async () => {
    const runs = Array.from({ length: 15 }, (_, i) =>
      checkRun(400 + i, `shard ${String(i + 1).padStart(2, '0')}`, 'failure', { annotations: 1 }),
    );
    const next = `<${API}/repositories/1296269/commits/${SHA}/check-runs?filter=latest&per_page=100&page=2>`;
    nock(API)
      .get(`${REPO_PATH}/commits/${SHA}/check-runs`)
      .query({ filter: 'latest', per_page: '100' })
      .reply(
        200,
        { total_count: 15, check_runs: runs.slice(0, 8) },
        { Link: `${next}; rel="next", ${next}; rel="last"` },
      );
    nock(API)
      .get(`/repositories/1296269/commits/${SHA}/check-runs`)
      .query({ filter: 'latest', per_page: '100', page: '2' })
      .reply(200, { total_count: 15, check_runs: runs.slice(8) });
    mockStatuses([]);
    for (const run of runs.slice(0, 10))
      mockAnnotations(run.id, [annotation('src/x.ts', 1, 'failure', `failed in ${run.name}`)]);
    for (const run of runs.slice(0, 5)) mockLog(run.id, jobLog(2));

    const report = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });

    expect(report.failedChecks).toHaveLength(15);
    expect(report.text.match(/^### shard/gm)).toHaveLength(10);
    expect(report.text.match(/^Job log/gm)).toHaveLength(5);
    expect(report.text).toContain('CI failed on commit d6fde92: 15 check runs failed.');
    expect(report.text).toContain(
      'Also failed, not detailed here: shard 11 (failure), shard 12 (failure), shard 13 (failure), shard 14 (failure), shard 15 (failure)',
    );
  });

  it('never exceeds maxChars, keeps every heading and the end of the log, and marks each cut', async () => {
    const summary = Array.from(
      { length: 300 },
      (_, i) => `| test ${i} | failed | ${'x'.repeat(40)} |`,
    ).join('\n');
    mockChecks([
      checkRun(501, 'test', 'failure', { title: '300 tests failed', summary, annotations: 180 }),
      checkRun(502, 'lint', 'failure', { summary: 'Biome found 1 error.', annotations: 1 }),
    ]);
    mockStatuses([
      commitStatus('ci/jenkins', 'failure', 'Build failed', 'https://jenkins.example.com/job/88/'),
    ]);
    mockAnnotations(
      501,
      Array.from({ length: 50 }, (_, i) =>
        annotation(
          `test/t${i}.test.ts`,
          i + 1,
          'failure',
          `AssertionError: expected ${i} to equal ${i + 1}`,
        ),
      ),
    );
    mockAnnotations(502, [annotation('src/a.ts', 9, 'failure', 'lint/style/useConst')]);
    mockLog(501, jobLog(400).replace(/passes/g, `passes ${'.'.repeat(150)}`));
    mockLog(502, jobLog(1));

    const { text } = await buildCiReport(octokit(), {
      owner: 'octo',
      repo: 'widgets',
      headSha: SHA,
      maxChars: 6_000,
    });

    expect(text.length).toBeLessThanOrEqual(6_000);
    expect(text.length).toBeGreaterThan(5_500);
    for (const heading of [
      'CI failed on commit',
      '### test (failure)',
      '**300 tests failed**',
      '### lint (failure)',
      '### Failed commit statuses',
    ]) {
      expect(text).toContain(heading);
    }
    expect(text).toContain('Annotations (the first 50 of 180):');
    // The small sections are whole; the large ones are cut, and say so.
    expect(text).toContain('Biome found 1 error.');
    expect(text).toContain('src/a.ts:9 [failure] lint/style/useConst');
    expect(text).toContain(
      '- ci/jenkins (failure): Build failed (https://jenkins.example.com/job/88/)',
    );
    expect(text.match(/\[… \d+ lines? truncated\]/g)!.length).toBeGreaterThanOrEqual(3);
    const testLog = text.slice(
      text.indexOf('Job log (job 501)'),
      text.indexOf('### Failed commit statuses'),
    );
    // One marker counts both the lines before the last 100 and those cut to fit: each of the 402
    // lines before the failure is either shown whole or counted.
    const cut = Number(/```text\n\[… (\d+) lines truncated\]\n/.exec(testLog)?.[1]);
    const shown = testLog.match(/^✓ /gm)!.length;
    expect(shown).toBeGreaterThan(5);
    expect(cut + shown).toBe(402);
    expect(testLog).toContain(
      "TypeError: Cannot read properties of null (reading 'path')\n##[error]Process completed with exit code 1.\n```",
    );
  });

  it('notes a listing that failed and reports from the other', async () => {
    mockChecks([checkRun(601, 'test', 'failure')]);
    nock(API)
      .get(`${REPO_PATH}/commits/${SHA}/status`)
      .query(true)
      .reply(403, { message: 'Resource not accessible by integration' });
    mockLog(601, jobLog(1));

    const report = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });

    expect(report.failedChecks).toEqual(['test']);
    expect(report.text).toContain('(commit statuses unavailable: 403)');
    expect(report.text).toContain('### test (failure)');
  });

  it('throws when neither check runs nor commit statuses can be listed, so the job retries', async () => {
    nock(API).get(`${REPO_PATH}/commits/${SHA}/check-runs`).query(true).reply(502, 'Bad Gateway');
    nock(API).get(`${REPO_PATH}/commits/${SHA}/status`).query(true).reply(502, 'Bad Gateway');

    await expect(
      buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA }),
    ).rejects.toMatchObject({ status: 502 });
  });

  it('says plainly when nothing failed on the commit', async () => {
    mockChecks([checkRun(701, 'test', 'success')]);
    mockStatuses([commitStatus('ci/jenkins', 'success', 'Build passed', null)]);

    const report = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });

    expect(report).toEqual({
      failedChecks: [],
      text: 'No failed check run or commit status was found on commit d6fde92.',
      signature: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it('signs a failure by its checks and first error: the same failure again signs the same, another error not', async () => {
    const annotated = (id: number, message: string) => {
      mockChecks([checkRun(id, 'test', 'failure', { app: 'ci', annotations: 1 })]);
      mockStatuses([]);
      mockAnnotations(id, [annotation('src/save.ts', 12, 'failure', message)]);
    };
    annotated(801, 'TypeError: file is null');
    const first = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });
    annotated(802, 'TypeError: file is null');
    const again = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });
    annotated(803, 'RangeError: index out of bounds');
    const other = await buildCiReport(octokit(), { owner: 'octo', repo: 'widgets', headSha: SHA });

    expect(again.signature).toBe(first.signature);
    expect(other.signature).not.toBe(first.signature);
  });

  it('names the run that failed in its headline when given the trigger', async () => {
    mockChecks([checkRun(901, 'test', 'failure')]);
    mockStatuses([]);
    mockLog(901, jobLog(1));

    const { text } = await buildCiReport(octokit(), {
      owner: 'octo',
      repo: 'widgets',
      headSha: SHA,
      trigger: { name: 'unit tests', event: 'check_suite:555:1' },
    });

    expect(text.split('\n')[0]).toBe(
      'CI failed on commit d6fde92 (unit tests, check_suite:555:1): 1 check run failed.',
    );
    expect(text.match(/CI failed on/g)).toHaveLength(1);
  });

  it('names the trigger also when nothing failed on the commit', async () => {
    mockChecks([checkRun(902, 'test', 'success')]);
    mockStatuses([]);

    const { text } = await buildCiReport(octokit(), {
      owner: 'octo',
      repo: 'widgets',
      headSha: SHA,
      trigger: { name: 'ci/jenkins', event: 'status:77:1' },
    });

    expect(text).toBe(
      'No failed check run or commit status was found on commit d6fde92 (ci/jenkins, status:77:1).',
    );
  });

  it('keeps the log timestamps when asked to', async () => {
    mockChecks([checkRun(801, 'test', 'failure')]);
    mockStatuses([]);
    mockLog(801, jobLog(1));

    const { text } = await buildCiReport(octokit(), {
      owner: 'octo',
      repo: 'widgets',
      headSha: SHA,
      stripTimestamps: false,
    });

    expect(text).toContain(`${at(59)}##[error]Process completed with exit code 1.`);
  });
});

describe('cleanLogLine', () => {
  it('shows a log line as a terminal would: no colours, no timestamp, the last redraw of a progress line', () => {
    expect(
      cleanLogLine('\uFEFF2024-05-02T10:01:00.1234567Z \u001b[1;31merror\u001b[0m TS2345\r'),
    ).toBe('error TS2345');
    expect(
      cleanLogLine(
        '2024-05-02T10:01:00.1234567Z 10%\r55%\r100% \u001b]8;;https://x.test\u0007link\u001b]8;;\u0007',
      ),
    ).toBe('100% link');
    expect(cleanLogLine('2024-05-02T10:01:00.1234567Z plain', false)).toBe(
      '2024-05-02T10:01:00.1234567Z plain',
    );
  });
});
