/**
 * Where git reaches a repository: built from the configured GitHub host and the full name GitHub
 * gave with the token, never from a URL stored in the database, which whoever can write a row
 * could point at a host of their choosing.
 */

import { UnsafeNameError } from './names.js';

/** The GitHub git talks to: GHE_PROTOCOL and GHE_HOST, or https://github.com. */
export interface GitHost {
  protocol: 'https' | 'http';
  /** A host name, with a port when not the protocol's own (`127.0.0.1:8080`). */
  host: string;
}

export const GITHUB_COM: GitHost = { protocol: 'https', host: 'github.com' };

const OWNER = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** `<protocol>://<host>/<owner>/<name>.git`; throws on a full name that is not GitHub's shape. */
export function remoteUrl(host: GitHost, fullName: string): string {
  const [owner, name, ...rest] = fullName.split('/');
  const valid =
    rest.length === 0 &&
    owner !== undefined &&
    OWNER.test(owner) &&
    name !== undefined &&
    NAME.test(name) &&
    name !== '.' &&
    name !== '..' &&
    !name.toLowerCase().endsWith('.git');
  if (!valid)
    throw new UnsafeNameError(`invalid repository full name: ${JSON.stringify(fullName)}`);
  return `${origin(host)}/${owner}/${name}.git`;
}

/** True when the URL is on the configured host, by the same protocol, with no user in it. */
export function isOnHost(url: string, host: GitHost): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return !parsed.username && !parsed.password && parsed.origin === origin(host);
}

/** `https://github.com`, as URL spells it (lowercase, no default port). */
export function origin(host: GitHost): string {
  return new URL(`${host.protocol}://${host.host}`).origin;
}
