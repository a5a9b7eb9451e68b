import type { Session, SessionEvent, SessionStatus } from '../db/schema.js';

/** A row as JSON carries it: dates become ISO strings. */
type Wire<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};
export type ApiSession = Wire<Session>;
export type ApiEvent = Wire<SessionEvent>;

export interface StartStatus {
  id: string;
  state: 'pending' | 'created' | 'refused' | 'failed';
  outcome: string | null;
  sessionId: string | null;
  jobId: number | null;
  error?: string;
}

export interface StartInput {
  /** owner/name */
  repository: string;
  issue: number;
  message?: string | undefined;
  agent?: string | undefined;
  profile?: string | undefined;
}

/** The server answered with an error status; `message` is the API's own error text. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** No answer from the server: nothing listens there, the name does not resolve, or it timed out. */
export class ApiUnreachableError extends Error {
  override name = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot reach the server at ${url} (${reason})`, options);
  }
}

export interface ApiClientOptions {
  /** The server's base URL, e.g. http://localhost:3000. */
  url: string;
  token: string;
  /** Per request (default 60 s: starting a session may wait for GitHub). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** The JSON API of the running server, as the CLI and the MCP server use it. */
export function createApiClient({
  url,
  token,
  timeoutMs = 60_000,
  fetch: fetchImpl = fetch,
}: ApiClientOptions) {
  const base = url.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ApiUnreachableError(base, reasonOf(error, timeoutMs), { cause: error });
    }
    const text = await response.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const message = (data as { error?: unknown } | undefined)?.error;
      throw new ApiError(
        response.status,
        typeof message === 'string'
          ? message
          : `HTTP ${response.status} ${response.statusText}`.trim(),
      );
    }
    if (data === undefined)
      throw new ApiError(response.status, `the server at ${base} did not answer with JSON`);
    return data as T;
  }

  const id = (sessionId: string) => encodeURIComponent(sessionId);

  return {
    url: base,

    /** One page, newest first; pass the previous page's nextCursor for the next. */
    listSessions(query: {
      repository?: string | undefined;
      status?: SessionStatus | undefined;
      limit?: number | undefined;
      cursor?: string | undefined;
    }) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query))
        if (value !== undefined) params.set(key, String(value));
      const search = params.size > 0 ? `?${params}` : '';
      return call<{ sessions: ApiSession[]; nextCursor: string | null }>(
        'GET',
        `/api/sessions${search}`,
      );
    },

    async getSession(sessionId: string): Promise<ApiSession> {
      return (await call<{ session: ApiSession }>('GET', `/api/sessions/${id(sessionId)}`)).session;
    },

    /** The session's last `last` events, oldest first. */
    async recentEvents(sessionId: string, last: number): Promise<ApiEvent[]> {
      return (
        await call<{ events: ApiEvent[] }>(
          'GET',
          `/api/sessions/${id(sessionId)}/events?last=${last}`,
        )
      ).events;
    },

    sendMessage(sessionId: string, body: string) {
      return call<{ queued: boolean }>('POST', `/api/sessions/${id(sessionId)}/messages`, {
        body,
      });
    },

    stopSession(sessionId: string, { cleanup }: { cleanup: boolean }) {
      return call<{ stopping: boolean }>('POST', `/api/sessions/${id(sessionId)}/stop`, {
        cleanup,
      });
    },

    /**
     * Asks for a session on an issue. The server waits up to `waitSeconds` (its default: 10) for
     * the session to be created; `start.state` is `pending` when it was not yet.
     */
    startSession(input: StartInput, waitSeconds?: number) {
      const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
      return call<{ start: StartStatus; session: ApiSession | null; follow: string }>(
        'POST',
        `/api/sessions${waitSeconds === undefined ? '' : `?wait=${waitSeconds}`}`,
        body,
      );
    },

    /** A start's state, as `startSession`'s `follow` URL answers it. */
    async startStatus(startId: string): Promise<StartStatus> {
      return (await call<{ start: StartStatus }>('GET', `/api/starts/${id(startId)}`)).start;
    },
  };
}

function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (!(e as { cause?: unknown }).cause && typeof message === 'string') return message;
    e = (e as { cause?: unknown }).cause;
  }
  return String(error);
}
