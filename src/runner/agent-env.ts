/** Always passed: what a CLI needs to find programs and behave in a terminal. */
const BASE = ['PATH', 'LANG', 'LC_ALL', 'TERM', 'TZ'] as const;

/**
 * Never passed, whatever an adapter or the operator lists: the app's own secrets. A token that
 * would let an agent push or call GitHub is exactly what the design keeps away from it.
 */
const FORBIDDEN = new Set([
  'PRIVATE_KEY',
  'PRIVATE_KEY_PATH',
  'WEBHOOK_SECRET',
  'DATABASE_URL',
  'API_TOKEN',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITHUB_CLIENT_SECRET',
  'GITHUB_CLIENT_ID',
  'APP_ID',
  'TEST_DATABASE_URL',
]);

export interface AgentEnvInput {
  /** The app's environment, where passed-through values come from. */
  from: Record<string, string | undefined>;
  /** The agent's HOME (a per-runner folder, not the app user's home with its credentials). */
  home: string;
  /** Names the adapter and the operator ask to pass through. */
  pass: readonly string[];
  /** Values set by the adapter and the operator. */
  set: Record<string, string>;
}

/** The agent's whole environment: an allow-list, never the app's secrets. */
export function agentEnvironment({ from, home, pass, set }: AgentEnvInput): Record<string, string> {
  const env: Record<string, string> = { HOME: home, TERM: 'dumb' };
  for (const name of [...BASE, ...pass]) {
    const value = from[name];
    if (value !== undefined && !isForbidden(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(set)) {
    if (!isForbidden(name)) env[name] = value;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

function isForbidden(name: string): boolean {
  return FORBIDDEN.has(name) || /(^|_)GITHUB_.*TOKEN$|^GH_.*TOKEN$/.test(name);
}
