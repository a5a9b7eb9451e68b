/** The help text of each command; `--help` on any command or subcommand prints its own. */

const API_NOTE = `They talk to the server's JSON API at AGENT_ORCHESTRATOR_URL (default http://localhost:$PORT,
PORT 3000) with the bearer token API_TOKEN; both may also come from .env.`;

export function mainUsage(version: string): string {
  return `agent-orchestrator ${version}

Usage: agent-orchestrator <command> [options]

Commands:
  start      serve webhooks, the API and health checks, and run agents here (default)
  runner     run agents only, taking jobs from the shared Postgres at DATABASE_URL
  migrate    apply database migrations, then exit
  sessions   list, show, start, message and stop agent sessions through the API
  redeliver  ask GitHub to deliver again the webhooks it failed to hand over
  mcp        serve the sessions API to an MCP client (an agent) over stdio
  help       show this text; help <command> shows a command's

Run agent-orchestrator <command> --help for its options.
Settings come from the environment and from .env in the working directory; see README.md.
Exit codes: 0 done, 1 failed, 2 bad usage, 69 server unreachable, 73 data folder held by
another process, 77 API token refused, 78 configuration error.`;
}

export const USAGE = {
  start: `Usage: agent-orchestrator start

Applies pending migrations, then serves webhooks, the JSON API and health checks, and runs agent
jobs here unless RUNNER=off. Stops gracefully on SIGTERM or SIGINT.`,

  runner: `Usage: agent-orchestrator runner

Runs agents only: claims session jobs from the shared Postgres at DATABASE_URL (needs the app's
credentials, APP_ID and PRIVATE_KEY).`,

  migrate: `Usage: agent-orchestrator migrate

Applies pending database migrations (DATABASE_URL, or the embedded database under DATA_DIR), then
exits.`,

  sessions: `Usage: agent-orchestrator sessions <subcommand> [options]

Subcommands:
  list    list sessions, newest first
  show    show one session and its recent events
  send    send a message to a session's agent
  stop    stop a session
  start   start a session on an issue

Run agent-orchestrator sessions <subcommand> --help for its options.

${API_NOTE}`,

  'sessions list': `Usage: agent-orchestrator sessions list [--repository owner/name] [--status s] [--limit n] [--json]

Lists sessions, newest first.

Options:
  --repository owner/name   only this repository's sessions
  --status s                only sessions in this status: queued, spawning, working, waiting,
                            needs_human, merged, closed, stopped, failed
  --limit n                 at most n sessions (default 50)
  --json                    print {"sessions": [...]} as JSON, for scripts

${API_NOTE}`,

  'sessions show': `Usage: agent-orchestrator sessions show <id> [--events n] [--json]

Shows a session and its most recent events.

Options:
  --events n   how many recent events (default 20)
  --json       print {"session": ..., "events": [...]} as JSON

${API_NOTE}`,

  'sessions send': `Usage: agent-orchestrator sessions send <id> <text...>
       agent-orchestrator sessions send <id> -      (the message from stdin)

Queues a message for the session's agent: it gets it as its next turn.

Options:
  --json   print the API's answer as JSON

${API_NOTE}`,

  'sessions stop': `Usage: agent-orchestrator sessions stop <id> [--keep-worktree]

Stops any running turn and ends the session; its worktree is removed unless --keep-worktree.

Options:
  --keep-worktree   leave the session's worktree on the runner's disk
  --json            print the API's answer as JSON

${API_NOTE}`,

  'sessions start': `Usage: agent-orchestrator sessions start <owner/name> <issue> [message...] [options]

Starts a session on an issue, as if a writer had labelled it: the server finds the app's
installation, reads the issue and .github/agent.yml, and queues the session. The message, if any
("-" reads it from stdin), goes to the agent with the issue.

Options:
  --agent name     use this agent instead of the repository's
  --profile name   use this operator-defined profile
  --wait seconds   how long the server waits for the session to be created (default 10)
  --json           print the API's answer as JSON

${API_NOTE}`,

  redeliver: `Usage: agent-orchestrator redeliver [<delivery-guid>]

Without an argument: looks now, as the server does at startup and every 10 minutes, for webhook
deliveries GitHub failed to hand over in the last 24 hours and the app never recorded, and asks
GitHub to deliver each again. With a delivery's GUID (X-GitHub-Delivery): asks GitHub to deliver
that one again, whatever became of it.

Uses the app's credentials (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, GHE_HOST) and, without a
GUID, the database (DATABASE_URL, or the embedded one under DATA_DIR when no server runs on it).`,

  mcp: `Usage: agent-orchestrator mcp

Serves an MCP server over stdio for an orchestrating agent, with the tools list_sessions,
show_session, send_message, stop_session and start_session. Each goes through the JSON API at
AGENT_ORCHESTRATOR_URL with API_TOKEN, as the sessions commands do. Only JSON-RPC goes to stdout.

For example, in an MCP client's configuration:
  {"command": "agent-orchestrator", "args": ["mcp"],
   "env": {"AGENT_ORCHESTRATOR_URL": "http://localhost:3000", "API_TOKEN": "..."}}`,
} as const;

export type UsageTopic = keyof typeof USAGE;
