// biome-ignore-all lint/suspicious/noAssignInExpressions: a router reads best as one match per route
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { githubTime } from './github-time.js';
import { type GitRequest, gitPath, gitService, serveGit } from './local-github-git.js';
import { createTokens } from './local-github-tokens.js';

export { githubTime } from './github-time.js';
export type { GitRequest } from './local-github-git.js';
export type { MintedToken } from './local-github-tokens.js';

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  /** The Authorization header it came with (`bearer <JWT>` as the app, `token ...` as an installation). */
  authorization: string;
  /** The status the local GitHub answered with (set once the answer is sent). */
  status?: number;
}

export interface PullRequest {
  number: number;
  html_url: string;
  head: { ref: string; sha: string; repo: { full_name: string } };
  base: { ref: string; repo: { full_name: string } };
  title: string;
  body: string;
  draft: boolean;
  state: 'open' | 'closed';
  merged: boolean;
  /** null while GitHub is still computing it. */
  mergeable: boolean | null;
  /** clean, unstable, has_hooks, blocked, behind, dirty, draft or unknown. */
  mergeable_state: string;
  user: { login: string; type: string };
}

export interface Comment {
  id: number;
  repository: string;
  issue: number;
  body: string;
  user: { login: string; type: string };
  created_at: string;
  updated_at: string;
}

export interface CheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: 'completed' | 'in_progress';
  conclusion: string | null;
  app: { slug: string };
  details_url: string;
  output: { title: string | null; summary: string | null };
  annotations: {
    path: string;
    start_line: number;
    end_line: number;
    annotation_level: string;
    message: string;
    title?: string;
  }[];
  log?: string;
}

export interface Review {
  id: number;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  body: string;
  user: { login: string; type: string };
  commit_id: string;
  comments: {
    id: number;
    path: string;
    line: number;
    original_line: number;
    diff_hunk: string;
    body: string;
    user: { login: string };
  }[];
}

const APP_LOGIN = 'agent-orchestrator[bot]';

/**
 * A local GitHub speaking the REST shapes the app uses, reached through GHE_HOST/GHE_PROTOCOL
 * (so under /api/v3), and git's smart HTTP at `/<owner>/<name>.git` for a repository with a bare
 * `gitDir`, to installation tokens only (local-github-tokens.ts). It keeps a little state (files,
 * permissions, comments, pulls, reviews, checks, tokens), records every call (git's apart) and
 * answers 404 to anything it does not know.
 */
/** A repository the app is installed on, for the reads a start through the API makes. */
export interface Repository {
  fullName: string;
  id: number;
  installationId: number;
  /** The bare repository git reaches at `/<owner>/<name>.git` (GitHub's clone URL). */
  gitDir?: string;
  /** What `GET /repos/{owner}/{repo}` says; the git URL above when not given. */
  cloneUrl?: string;
  defaultBranch: string;
  private?: boolean;
}

/** An issue as `GET /repos/{owner}/{repo}/issues/{number}` answers it. */
export interface Issue {
  number: number;
  title: string;
  body: string;
  state?: 'open' | 'closed';
  /** Set for a pull request (GitHub's issues API lists those too). */
  pullRequest?: boolean;
  /** Who opened it (alice when not said). */
  user?: { login: string; type: string };
}

export async function startLocalGitHub() {
  const calls: RecordedCall[] = [];
  const pulls = new Map<string, PullRequest[]>();
  const comments: Comment[] = [];
  const reactions: { commentId: number; content: string }[] = [];
  const files = new Map<string, string>();
  const roles = new Map<string, string>();
  const checkRuns: CheckRun[] = [];
  const reviews = new Map<string, Review[]>();
  const statuses: {
    sha: string;
    state: string;
    context: string;
    description: string;
    target_url: string;
  }[] = [];
  const mergeRefusals = new Map<string, string>();
  /** GitHub's record of webhook deliveries to the app (GET /app/hook/deliveries). */
  const hookDeliveries: {
    id: number;
    guid: string;
    status: string;
    status_code: number;
    delivered_at: string;
    redelivery: boolean;
    event: string;
  }[] = [];
  const redeliveryRequests: number[] = [];
  const repositories = new Map<string, Repository>();
  const tokens = createTokens((installationId) =>
    [...repositories.values()].filter((r) => r.installationId === installationId),
  );
  const gitRequests: GitRequest[] = [];
  const issues = new Map<string, Issue>();
  let nextNumber = 100;
  let nextId = 1000;
  /** Requests held unanswered until the test releases them (a slow or stuck GitHub). */
  const holds: {
    matches: (call: RecordedCall) => boolean;
    waiting: RecordedCall[];
    released: Promise<void>;
  }[] = [];
  /** GitHub's primary rate limit: each call spends one, reported in x-ratelimit-* headers. */
  const rateLimit = { limit: 5000, remaining: 5000 };

  const pullsOf = (repository: string) => pulls.get(repository) ?? [];
  const findPull = (repository: string, number: number) =>
    pullsOf(repository).find((p) => p.number === number);

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const git = gitPath(url.pathname);
    if (git) {
      await answerGit(req, res, url, git);
      return;
    }
    const body = await readJson(req);
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      body,
      authorization: req.headers.authorization ?? '',
    };
    calls.push(call);
    const hold = holds.find((h) => h.matches(call));
    if (hold) {
      hold.waiting.push(call);
      // A request the app gave up on (its deadline passed) is no longer waiting.
      const gaveUp = () => {
        const at = hold.waiting.indexOf(call);
        if (at >= 0) hold.waiting.splice(at, 1);
      };
      req.socket.once('close', gaveUp);
      await hold.released;
      req.socket.off('close', gaveUp);
    }
    res.on('finish', () => {
      call.status = res.statusCode;
    });
    rateLimit.remaining = Math.max(0, rateLimit.remaining - 1);
    res.setHeader('x-ratelimit-limit', String(rateLimit.limit));
    res.setHeader('x-ratelimit-remaining', String(rateLimit.remaining));
    res.setHeader('x-ratelimit-used', String(rateLimit.limit - rateLimit.remaining));
    res.setHeader('x-ratelimit-resource', 'core');
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    try {
      if (!route(req, res, url, body, send)) send(404, { message: 'Not Found' });
    } catch (error) {
      send(500, { message: (error as Error).message });
    }
  });

  /** Git over HTTP, as GitHub: Basic `x-access-token:<token>`, 401 without a live token. */
  async function answerGit(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    { repository, rest }: { repository: string; rest: string },
  ) {
    const repo = repositories.get(repository.toLowerCase());
    const service = gitService(rest, url.searchParams);
    if (!repo?.gitDir || !service) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Repository not found.');
      return;
    }
    const write = service === 'git-receive-pack';
    const access = tokens.gitAccess(req.headers.authorization, repo, write);
    const request: GitRequest = {
      method: req.method ?? 'GET',
      repository,
      service,
      token: access.token,
      status: access.status,
    };
    gitRequests.push(request);
    if (access.status === 401) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' });
      res.end(
        'Invalid username or token. Password authentication is not supported for Git operations.\n',
      );
      return;
    }
    if (access.status === 403) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end(`Permission to ${repo.fullName}.git denied to ${APP_LOGIN}.\n`);
      return;
    }
    request.status = await serveGit(req, res, repo.gitDir, rest, url.search.slice(1));
  }

  const gitUrl = (fullName: string) => `http://${host()}/${fullName}.git`;
  const host = () => `127.0.0.1:${(server.address() as AddressInfo).port}`;

  function route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: unknown,
    send: (status: number, data: unknown) => void,
  ): boolean {
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v3/, ''));
    const at = (method: string, pattern: RegExp) =>
      req.method === method ? pattern.exec(path) : null;
    const input = (body ?? {}) as Record<string, unknown>;
    let m: RegExpExecArray | null;

    if ((m = at('POST', /^\/app\/installations\/(\d+)\/access_tokens$/))) {
      const minted = tokens.mint(Number(m[1]), input);
      send(minted.status, minted.body);
      return true;
    }
    if (at('DELETE', /^\/installation\/token$/)) {
      if (tokens.revoke(req.headers.authorization)) {
        res.writeHead(204);
        res.end();
      } else {
        send(401, {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
          status: '401',
        });
      }
      return true;
    }
    if (at('GET', /^\/app\/hook\/deliveries$/)) {
      const status = url.searchParams.get('status');
      send(
        200,
        [...hookDeliveries]
          .reverse()
          .filter(
            (d) => !status || (status === 'failure' ? d.status_code >= 300 : d.status_code < 300),
          ),
      );
      return true;
    }
    if ((m = at('POST', /^\/app\/hook\/deliveries\/(\d+)\/attempts$/))) {
      if (!hookDeliveries.some((d) => d.id === Number(m![1]))) return false;
      redeliveryRequests.push(Number(m[1]));
      send(202, {});
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/installation$/))) {
      const repo = repositories.get(m[1]!.toLowerCase());
      if (!repo) return false;
      send(200, { id: repo.installationId, app_id: 1, target_type: 'Organization' });
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)$/))) {
      const repo = repositories.get(m[1]!.toLowerCase());
      if (!repo) return false;
      send(200, {
        id: repo.id,
        full_name: repo.fullName,
        name: repo.fullName.split('/')[1],
        clone_url: repo.cloneUrl ?? gitUrl(repo.fullName),
        default_branch: repo.defaultBranch,
      });
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)$/))) {
      const issue = issues.get(`${m[1]!.toLowerCase()}#${m[2]}`);
      if (!issue) return false;
      send(200, {
        number: issue.number,
        title: issue.title,
        body: issue.body,
        state: issue.state ?? 'open',
        html_url: `https://github.example/${m[1]}/issues/${issue.number}`,
        user: issue.user ?? { login: 'alice', type: 'User' },
        ...(issue.pullRequest ? { pull_request: { url: 'https://github.example/pr' } } : {}),
      });
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/contents\/(.+)$/))) {
      const content = files.get(`${m[1]}:${m[2]}`);
      if (content === undefined) return false;
      res.writeHead(200, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
      res.end(content);
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/collaborators\/([^/]+)\/permission$/))) {
      const role = roles.get(m[2]!);
      if (!role) return false;
      const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
      send(200, { permission, role_name: role, user: { login: m[2] } });
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/pulls$/))) {
      const head = url.searchParams.get('head')?.split(':')[1];
      send(
        200,
        pullsOf(m[1]!).filter((p) => p.state === 'open' && (!head || p.head.ref === head)),
      );
      return true;
    }
    if ((m = at('POST', /^\/repos\/([^/]+\/[^/]+)\/pulls$/))) {
      const number = nextNumber++;
      const pr: PullRequest = {
        number,
        html_url: `https://github.example/${m[1]}/pull/${number}`,
        head: { ref: String(input.head), sha: '', repo: { full_name: m[1]! } },
        base: { ref: String(input.base), repo: { full_name: m[1]! } },
        title: String(input.title),
        body: String(input.body),
        draft: Boolean(input.draft),
        state: 'open',
        merged: false,
        mergeable: true,
        mergeable_state: 'clean',
        user: { login: APP_LOGIN, type: 'Bot' },
      };
      pulls.set(m[1]!, [...pullsOf(m[1]!), pr]);
      send(201, pr);
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/))) {
      const pr = findPull(m[1]!, Number(m[2]));
      if (!pr) return false;
      send(200, pr);
      return true;
    }
    if ((m = at('PUT', /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/merge$/))) {
      const pr = findPull(m[1]!, Number(m[2]));
      if (!pr) return false;
      const refusal = mergeRefusals.get(`${m[1]}#${m[2]}`);
      if (refusal) {
        send(405, { message: refusal });
        return true;
      }
      // GitHub merges only at the sha asked for, when one is given.
      if (input.sha && pr.head.sha && input.sha !== pr.head.sha) {
        send(409, { message: 'Head branch was modified. Review and try the merge again.' });
        return true;
      }
      pr.merged = true;
      pr.state = 'closed';
      send(200, { merged: true, sha: pr.head.sha, message: 'Pull Request successfully merged' });
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/reviews$/))) {
      send(200, reviews.get(`${m[1]}#${m[2]}`) ?? []);
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/reviews\/(\d+)$/))) {
      const review = (reviews.get(`${m[1]}#${m[2]}`) ?? []).find((r) => r.id === Number(m![3]));
      if (!review) return false;
      send(200, review);
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)\/reviews\/(\d+)\/comments$/))) {
      const review = (reviews.get(`${m[1]}#${m[2]}`) ?? []).find((r) => r.id === Number(m![3]));
      send(200, review?.comments ?? []);
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/))) {
      const all = comments.filter((c) => c.repository === m![1] && c.issue === Number(m![2]));
      // Pages as GitHub's: per_page (30, at most 100) and page, the next one in the Link header.
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
      const page = Number(url.searchParams.get('page') ?? 1);
      if (page * perPage < all.length) {
        const next = new URL(url.pathname + url.search, `http://${req.headers.host}`);
        next.searchParams.set('page', String(page + 1));
        res.setHeader('link', `<${next.href}>; rel="next"`);
      }
      send(200, all.slice((page - 1) * perPage, page * perPage));
      return true;
    }
    if ((m = at('POST', /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/))) {
      const now = githubTime();
      const comment: Comment = {
        id: nextId++,
        repository: m[1]!,
        issue: Number(m[2]),
        body: String(input.body),
        user: { login: APP_LOGIN, type: 'Bot' },
        created_at: now,
        updated_at: now,
      };
      comments.push(comment);
      send(201, comment);
      return true;
    }
    if ((m = at('PATCH', /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/))) {
      const comment = comments.find((c) => c.id === Number(m![2]));
      if (!comment) return false;
      comment.body = String(input.body);
      comment.updated_at = githubTime();
      send(200, comment);
      return true;
    }
    if ((m = at('POST', /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)\/reactions$/))) {
      reactions.push({ commentId: Number(m[2]), content: String(input.content) });
      send(201, { id: nextId++, content: input.content });
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/check-runs$/))) {
      const runs = checkRuns.filter((c) => c.head_sha === m![2]);
      send(200, {
        total_count: runs.length,
        check_runs: runs.map(({ annotations: _, log: __, ...run }) => run),
      });
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/check-runs\/(\d+)\/annotations$/))) {
      send(200, checkRuns.find((c) => c.id === Number(m![2]))?.annotations ?? []);
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/actions\/jobs\/(\d+)\/logs$/))) {
      const run = checkRuns.find((c) => c.id === Number(m![2]));
      if (!run?.log) return false;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(run.log);
      return true;
    }
    if ((m = at('GET', /^\/repos\/([^/]+\/[^/]+)\/commits\/([^/]+)\/status$/))) {
      const list = statuses.filter((s) => s.sha === m![2]);
      const state =
        list.length === 0 || list.every((s) => s.state === 'success')
          ? 'success'
          : list.some((s) => s.state === 'pending')
            ? 'pending'
            : 'failure';
      send(200, { state, total_count: list.length, statuses: list, sha: m[2] });
      return true;
    }
    return false;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    /** Settings that point the app here. */
    env: { GHE_HOST: `127.0.0.1:${port}`, GHE_PROTOCOL: 'http' },
    calls,
    /** Every installation token minted, in order; revoked ones carry `revokedAt`. */
    tokens: tokens.minted,
    /** Every git request, with the token it came with and the status it got. */
    gitRequests,
    /** Where git reaches a repository here: `http://<host>/<owner>/<name>.git`. */
    gitUrl,
    comments,
    reactions,
    /** What the last answer reported in x-ratelimit-remaining. */
    rateLimitRemaining: () => rateLimit.remaining,
    pullsOf,
    findPull,
    /**
     * Leaves the matching requests unanswered until `release()`: `waiting` lists those held and
     * still waited for (not those the app gave up on); one arriving after the release is
     * answered at once.
     */
    hold(matches: (call: RecordedCall) => boolean) {
      let release!: () => void;
      const entry = {
        matches,
        waiting: [] as RecordedCall[],
        released: new Promise<void>((resolve) => {
          release = resolve;
        }),
      };
      holds.push(entry);
      return {
        waiting: entry.waiting,
        release() {
          holds.splice(holds.indexOf(entry), 1);
          release();
        },
      };
    },
    /** Calls that created content (comments, pull requests) or edited comments. */
    writes: () => calls.filter((c) => c.method !== 'GET'),
    setFile: (repository: string, path: string, content: string) =>
      files.set(`${repository}:${path}`, content),
    setRole: (login: string, role: string) => roles.set(login, role),
    addCheckRun: (run: Omit<CheckRun, 'id'>) => {
      const full = { ...run, id: nextId++ };
      checkRuns.push(full);
      return full;
    },
    addReview: (repository: string, prNumber: number, review: Omit<Review, 'id'>) => {
      const full = { ...review, id: nextId++ };
      reviews.set(`${repository}#${prNumber}`, [
        ...(reviews.get(`${repository}#${prNumber}`) ?? []),
        full,
      ]);
      return full;
    },
    addStatus: (status: (typeof statuses)[number]) => statuses.push(status),
    /** Records that GitHub tried to deliver a webhook (status_code 2xx is a success). */
    addHookDelivery: (guid: string, statusCode: number, deliveredAt = new Date()) => {
      const delivery = {
        id: nextId++,
        guid,
        status: statusCode < 300 ? 'OK' : 'failed',
        status_code: statusCode,
        delivered_at: deliveredAt.toISOString(),
        redelivery: false,
        event: 'issues',
      };
      hookDeliveries.push(delivery);
      return delivery;
    },
    redeliveryRequests,
    /** A pull request someone else opened (e.g. from a fork). */
    addPull: (repository: string, pr: Omit<PullRequest, 'number' | 'html_url'>) => {
      const number = nextNumber++;
      const full = {
        ...pr,
        number,
        html_url: `https://github.example/${repository}/pull/${number}`,
      };
      pulls.set(repository, [...pullsOf(repository), full]);
      return full;
    },
    refuseMerge: (repository: string, prNumber: number, message: string) =>
      mergeRefusals.set(`${repository}#${prNumber}`, message),
    /** A comment someone made (now, unless `at` says when; a login ending in [bot] is a bot). */
    addComment: (
      repository: string,
      issue: number,
      login: string,
      text: string,
      at: Date = new Date(),
    ) => {
      const comment: Comment = {
        id: nextId++,
        repository,
        issue,
        body: text,
        user: { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' },
        created_at: githubTime(at),
        updated_at: githubTime(at),
      };
      comments.push(comment);
      return comment;
    },
    /** Someone edits their comment: GitHub keeps only the new text, and the time of the edit. */
    editComment: (id: number, text: string, at: Date = new Date()) => {
      const comment = comments.find((c) => c.id === id);
      if (!comment) throw new Error(`no comment ${id}`);
      comment.body = text;
      comment.updated_at = githubTime(at);
    },
    /** A repository the app is installed on (its installation, and the repository read). */
    addRepository: (repo: Repository) => repositories.set(repo.fullName.toLowerCase(), repo),
    addIssue: (repository: string, issue: Issue) =>
      issues.set(`${repository.toLowerCase()}#${issue.number}`, issue),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type LocalGitHub = Awaited<ReturnType<typeof startLocalGitHub>>;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
