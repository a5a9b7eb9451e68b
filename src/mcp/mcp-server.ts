import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  type ApiClient,
  ApiError,
  type ApiSession,
  ApiUnreachableError,
} from '../cli/api-client.js';
import { SESSION_STATUSES } from '../db/schema.js';

const sessionId = z.string().min(1).describe('The session id, e.g. s-0a1b2c3d4e5f');

/** A session without its trigger-time snapshot (issue text, config), which is long. */
function brief(session: ApiSession) {
  const { context: _context, ...rest } = session;
  return rest;
}

function ok(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
}

/** The API's refusal as a tool error the calling agent can read and act on. */
function failed(error: unknown): CallToolResult {
  const text =
    error instanceof ApiError
      ? `The orchestrator's API answered ${error.status}: ${error.message}`
      : error instanceof ApiUnreachableError
        ? error.message
        : `Failed: ${(error as Error).message}`;
  return { content: [{ type: 'text', text }], isError: true };
}

async function attempt(fn: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return ok(await fn());
  } catch (error) {
    return failed(error);
  }
}

/**
 * The orchestrator's sessions as MCP tools, each a call to the JSON API, so an orchestrating agent
 * works with sessions as a person does with the CLI or the dashboard.
 */
export function createMcpServer(api: ApiClient, version: string): McpServer {
  const server = new McpServer({ name: 'agent-orchestrator', version });

  server.registerTool(
    'list_sessions',
    {
      title: 'List sessions',
      description:
        'Lists agent sessions, newest first: id, repository, issue, pull request, status, agent, cost and times.',
      inputSchema: {
        repository: z
          .string()
          .regex(/^[\w.-]+\/[\w.-]+$/)
          .optional()
          .describe('Only this repository (owner/name)'),
        status: z.enum(SESSION_STATUSES).optional().describe('Only sessions in this status'),
        limit: z.number().int().min(1).max(200).default(20).describe('At most this many'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ repository, status, limit }) =>
      attempt(async () => {
        const page = await api.listSessions({ repository, status, limit });
        return { sessions: page.sessions.map(brief), more: page.nextCursor !== null };
      }),
  );

  server.registerTool(
    'show_session',
    {
      title: 'Show a session',
      description:
        'One session with its recent events (turns, pushes, reactions, messages): what the agent did and what it waits for.',
      inputSchema: {
        id: sessionId,
        events: z.number().int().min(1).max(1000).default(20).describe('How many recent events'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ id, events }) =>
      attempt(async () => ({
        session: brief(await api.getSession(id)),
        events: await api.recentEvents(id, events),
      })),
  );

  server.registerTool(
    'send_message',
    {
      title: 'Send a message to a session',
      description:
        "Queues a message for the session's agent; it gets it as its next turn (after the running one, if any).",
      inputSchema: { id: sessionId, message: z.string().min(1).describe('What to tell the agent') },
    },
    ({ id, message }) => attempt(() => api.sendMessage(id, message)),
  );

  server.registerTool(
    'stop_session',
    {
      title: 'Stop a session',
      description:
        'Stops any running turn and ends the session. Its worktree is removed unless keepWorktree; the branch and pull request stay on GitHub.',
      inputSchema: {
        id: sessionId,
        keepWorktree: z
          .boolean()
          .default(false)
          .describe("Leave the worktree on the runner's disk"),
      },
      annotations: { destructiveHint: true },
    },
    ({ id, keepWorktree }) => attempt(() => api.stopSession(id, { cleanup: !keepWorktree })),
  );

  server.registerTool(
    'start_session',
    {
      title: 'Start a session on an issue',
      description:
        'Starts an agent session on a GitHub issue, as a writer labelling it would: the agent gets the issue (and the message, if any), works on a new branch and opens a pull request. Refused when the issue already has a live session.',
      inputSchema: {
        repository: z
          .string()
          .regex(/^[\w.-]+\/[\w.-]+$/)
          .describe('owner/name'),
        issue: z.number().int().positive().describe('The issue number'),
        message: z.string().min(1).optional().describe('Extra instructions for the agent'),
        agent: z.string().optional().describe("An agent name instead of the repository's"),
        profile: z.string().optional().describe('An operator-defined profile'),
      },
    },
    (input) => attempt(() => api.startSession(input)),
  );

  return server;
}
