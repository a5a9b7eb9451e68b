import { SESSION_STATUSES, type SessionStatus } from '../db/schema.js';
import {
  type ApiClient,
  ApiError,
  type ApiSession,
  ApiUnreachableError,
  createApiClient,
} from './api-client.js';
import { loadApiSettings } from './api-settings.js';
import { parseCommandArgs, wholeNumber } from './args.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { sessionDetails, sessionsTable } from './format.js';
import type { Io } from './io.js';
import { USAGE } from './usage.js';

const REPOSITORY = /^[\w.-]+\/[\w.-]+$/;
/** The API answers at most this many sessions a page. */
const PAGE = 200;

/** `agent-orchestrator sessions <subcommand>`: the JSON API from the command line. */
export async function sessionsCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    if (sub === undefined) throw usageError('Missing subcommand.', USAGE.sessions);
    io.out(USAGE.sessions);
    return EXIT.ok;
  }
  const run = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (!run) throw usageError(`Unknown subcommand "sessions ${sub}".`, USAGE.sessions);
  const usage = USAGE[`sessions ${sub}` as keyof typeof USAGE];
  if (asksForHelp(rest)) {
    io.out(usage);
    return EXIT.ok;
  }
  // Arguments are checked before settings, so a typo is reported as such first.
  const prepared = await run(rest, io, usage);
  const client = createApiClient(loadApiSettings(io.env));
  try {
    await prepared(client);
  } catch (error) {
    throw asCliError(error);
  }
  return EXIT.ok;
}

type Subcommand = (
  args: string[],
  io: Io,
  usage: string,
) => Promise<(api: ApiClient) => Promise<void>>;

const SUBCOMMANDS: Record<string, Subcommand> = {
  async list(args, io, usage) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        repository: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}".`, usage);
    const repository = values.repository as string | undefined;
    if (repository !== undefined && !REPOSITORY.test(repository))
      throw usageError(`--repository must be owner/name, not "${repository}".`, usage);
    const status = values.status as string | undefined;
    if (status !== undefined && !(SESSION_STATUSES as readonly string[]).includes(status))
      throw usageError(
        `--status must be one of ${SESSION_STATUSES.join(', ')}; not "${status}".`,
        usage,
      );
    const limit =
      values.limit === undefined ? 50 : wholeNumber(values.limit as string, '--limit', usage);
    return async (api) => {
      const found: ApiSession[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.listSessions({
          repository,
          status: status as SessionStatus | undefined,
          limit: Math.min(PAGE, limit - found.length),
          cursor,
        });
        found.push(...page.sessions);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && found.length < limit);
      if (values.json) io.out(JSON.stringify({ sessions: found }, null, 2));
      else if (found.length === 0) io.out('No sessions.');
      else io.out(sessionsTable(found));
    };
  },

  async show(args, io, usage) {
    const { values, positionals } = parseCommandArgs(
      args,
      { events: { type: 'string' }, json: { type: 'boolean' } },
      usage,
    );
    const id = onePositional(positionals, 'session id', usage);
    const last =
      values.events === undefined ? 20 : wholeNumber(values.events as string, '--events', usage);
    return async (api) => {
      const session = await api.getSession(id);
      const events = await api.recentEvents(id, Math.min(last, 1000));
      if (values.json) io.out(JSON.stringify({ session, events }, null, 2));
      else io.out(sessionDetails(session, events));
    };
  },

  async send(args, io, usage) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, usage);
    const [id, ...words] = positionals;
    if (!id) throw usageError('Missing the session id.', usage);
    if (words.length === 0) throw usageError('Missing the message text (or - for stdin).', usage);
    const text = await textOrStdin(words, io, usage);
    return async (api) => {
      const answer = await api.sendMessage(id, text);
      if (values.json) io.out(JSON.stringify(answer));
      else io.out(`Message queued for ${id}: the agent gets it as its next turn.`);
    };
  },

  async stop(args, io, usage) {
    const { values, positionals } = parseCommandArgs(
      args,
      { 'keep-worktree': { type: 'boolean' }, json: { type: 'boolean' } },
      usage,
    );
    const id = onePositional(positionals, 'session id', usage);
    const keep = Boolean(values['keep-worktree']);
    return async (api) => {
      const answer = await api.stopSession(id, { cleanup: !keep });
      if (values.json) io.out(JSON.stringify(answer));
      else
        io.out(
          `Stopping ${id}: any running turn is stopped and the session ends; its worktree is ${keep ? 'kept' : 'removed'}.`,
        );
    };
  },

  async start(args, io, usage) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        agent: { type: 'string' },
        profile: { type: 'string' },
        wait: { type: 'string' },
        json: { type: 'boolean' },
      },
      usage,
    );
    const [repository, issueText, ...words] = positionals;
    if (!repository || !issueText)
      throw usageError('Missing the repository (owner/name) and the issue number.', usage);
    if (!REPOSITORY.test(repository))
      throw usageError(`The repository must be owner/name, not "${repository}".`, usage);
    const issue = wholeNumber(issueText.replace(/^#/, ''), 'The issue number', usage);
    if (values.agent && values.profile)
      throw usageError('Give --agent or --profile, not both.', usage);
    const wait =
      values.wait === undefined
        ? undefined
        : wholeNumber(values.wait as string, '--wait', usage, 0);
    const message = words.length > 0 ? await textOrStdin(words, io, usage) : undefined;
    return async (api) => {
      const answer = await api.startSession(
        {
          repository,
          issue,
          message,
          agent: values.agent as string | undefined,
          profile: values.profile as string | undefined,
        },
        wait,
      );
      if (values.json) io.out(JSON.stringify(answer, null, 2));
      else if (answer.session)
        io.out(
          `Started session ${answer.session.id} on ${answer.session.repositoryFullName}#${answer.session.issueNumber} (${answer.session.status}).`,
        );
      else
        io.out(
          `Start ${answer.start.id} is queued; the server has not created the session yet. Follow it at ${api.url}${answer.follow}, or with agent-orchestrator sessions list --repository ${repository}.`,
        );
    };
  },
};

/** --help or -h among the options (not after `--`, where they would be message text). */
export function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return args.slice(0, end < 0 ? undefined : end).some((a) => a === '--help' || a === '-h');
}

function onePositional(positionals: string[], what: string, usage: string): string {
  if (positionals.length === 0) throw usageError(`Missing the ${what}.`, usage);
  if (positionals.length > 1) throw usageError(`Unexpected argument "${positionals[1]}".`, usage);
  return positionals[0]!;
}

/** The words joined by spaces, or stdin for a lone "-". */
async function textOrStdin(words: string[], io: Io, usage: string): Promise<string> {
  const text = words.length === 1 && words[0] === '-' ? await io.readStdin() : words.join(' ');
  if (!text.trim()) throw usageError('The message is empty.', usage);
  return text;
}

/** The API's failures as the CLI reports them: its message, and an exit code saying why. */
export function asCliError(error: unknown): unknown {
  if (error instanceof ApiUnreachableError)
    return new CliError(
      `${error.message}. Is it running? Set AGENT_ORCHESTRATOR_URL to its address.`,
      EXIT.unavailable,
      undefined,
      { cause: error },
    );
  if (error instanceof ApiError) {
    if (error.status === 401)
      return new CliError(
        `The server refused the API token: ${error.message}. Check API_TOKEN.`,
        EXIT.noPermission,
        undefined,
        { cause: error },
      );
    return new CliError(`Error: ${error.message} (HTTP ${error.status})`, EXIT.failure, undefined, {
      cause: error,
    });
  }
  return error;
}
