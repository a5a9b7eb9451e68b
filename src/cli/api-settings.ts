import { CliError, EXIT } from './cli-error.js';

export interface ApiSettings {
  url: string;
  token: string;
}

/**
 * Where the session commands and the MCP server find the API: AGENT_ORCHESTRATOR_URL (default
 * http://localhost:$PORT, PORT 3000) and the bearer token API_TOKEN.
 */
export function loadApiSettings(env: Record<string, string | undefined>): ApiSettings {
  const raw = env.AGENT_ORCHESTRATOR_URL?.trim() || `http://localhost:${env.PORT?.trim() || 3000}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(
      `Configuration error: AGENT_ORCHESTRATOR_URL: "${raw}" is not a URL; use the server's address, e.g. http://localhost:3000`,
      EXIT.config,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(
      `Configuration error: AGENT_ORCHESTRATOR_URL: use an http:// or https:// URL, not ${url.protocol}`,
      EXIT.config,
    );
  const token = env.API_TOKEN?.trim();
  if (!token)
    throw new CliError(
      'Configuration error: API_TOKEN: not set; use the token the server was started with (a development server prints one at startup)',
      EXIT.config,
    );
  return { url: url.href.replace(/\/+$/, ''), token };
}
