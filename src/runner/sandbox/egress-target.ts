import { isIPv6 } from 'node:net';

/** A host and port the egress proxy is asked to reach. */
export interface EgressTarget {
  host: string;
  port: number;
}

/**
 * A host name or IP address in the one form the allow list compares and the proxy connects to:
 * lower case, no trailing dot, IPv4 in dotted decimal (so `127.1` is `127.0.0.1`), IPv6 compressed
 * and without brackets. Null for anything else, so no odd spelling can match one entry and reach
 * another host.
 */
export function canonicalHost(text: string): string | null {
  const bracketed = /^\[(.*)\]$/.exec(text);
  const bare = bracketed ? bracketed[1]! : text;
  if (bare.includes(':')) {
    return isIPv6(bare) ? new URL(`http://[${bare}]/`).hostname.slice(1, -1) : null;
  }
  if (bracketed || !/^[A-Za-z0-9._-]+$/.test(bare)) return null;
  let host: string;
  try {
    host = new URL(`http://${bare}/`).hostname;
  } catch {
    return null; // a malformed IPv4 address such as 1.2.3.999
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  const labels = host.split('.');
  if (host.length > 253 || labels.some((label) => label.length === 0 || label.length > 63)) {
    return null;
  }
  return host;
}

/** The target of `CONNECT host:port` (the port is required), or null. */
export function parseConnectTarget(authority: string): EgressTarget | null {
  const match = /^(\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(authority);
  if (!match) return null;
  return target(match[1]!, Number(match[2]));
}

/**
 * The target and the path of a request in absolute form (`GET http://host:port/path`), or null
 * for any other form. The path is kept as sent: a proxy forwards, it does not normalize.
 */
export function parseAbsoluteTarget(url: string): (EgressTarget & { path: string }) | null {
  const scheme = /^http:\/\//i.exec(url);
  if (!scheme) return null;
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[/?]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const path = end === -1 ? '/' : rest[end] === '/' ? rest.slice(end) : `/${rest.slice(end)}`;
  const match = /^(\[[^\]]*\]|[^:@]*)(?::(\d{1,5}))?$/.exec(authority);
  if (!match) return null;
  const found = target(match[1]!, match[2] === undefined ? 80 : Number(match[2]));
  return found && { ...found, path };
}

/** `host:port` as people write it, with IPv6 in brackets. */
export function formatTarget({ host, port }: EgressTarget): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function target(hostText: string, port: number): EgressTarget | null {
  const host = canonicalHost(hostText);
  return host !== null && port >= 1 && port <= 65535 ? { host, port } : null;
}
