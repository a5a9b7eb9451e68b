import { isIP } from 'node:net';
import { canonicalHost } from './egress-target.js';

/** One `egress.allow` entry of the operator YAML, parsed. */
export interface AllowEntry {
  /** The canonical host, or for `*.example.com` the domain whose subdomains match. */
  host: string;
  /** True for `*.example.com`: any subdomain, not the domain itself. */
  subdomains: boolean;
  ports: readonly number[];
}

/** The ports of an entry written without one: HTTPS and HTTP. */
const DEFAULT_PORTS: readonly number[] = [443, 80];

/**
 * Parses `example.com`, `*.example.com`, `host:port` or `[ipv6]:port`, case-insensitive, a
 * trailing dot ignored. Throws an Error naming the entry and the forms it may take.
 */
export function parseAllowEntry(text: string): AllowEntry {
  const invalid = (why: string) =>
    new Error(
      `egress.allow entry "${text}" is not valid: ${why}. ` +
        'Write example.com, *.example.com, host:port or [ipv6]:port.',
    );
  if (text.includes('/')) throw invalid('write a host, not a URL or a path');
  const match = /^(\[[^\]]*\]|[^:]*)(?::([^:]*))?$/.exec(text.trim());
  if (!match) throw invalid('it has more than one colon (an IPv6 address goes in brackets)');
  const [, hostText = '', portText] = match;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(/^\d{1,5}$/.test(portText!) && port >= 1 && port <= 65535)) {
    throw invalid('the port must be a number from 1 to 65535');
  }
  const subdomains = hostText.startsWith('*.');
  const host = canonicalHost(subdomains ? hostText.slice(2) : hostText);
  if (host === null) throw invalid('that is not a host name or an IP address');
  if (subdomains && isIP(host)) throw invalid('a wildcard takes a domain name, not an address');
  return { host, subdomains, ports: port === undefined ? DEFAULT_PORTS : [port] };
}

/** Whether the allow list lets an agent reach host:port. Throws on an invalid entry. */
export function egressAllowed(allow: readonly string[], host: string, port: number): boolean {
  const target = canonicalHost(host);
  if (target === null) return false;
  return allow.some((text) => {
    const entry = parseAllowEntry(text);
    if (!entry.ports.includes(port)) return false;
    return entry.subdomains ? target.endsWith(`.${entry.host}`) : target === entry.host;
  });
}
