import type { EgressPlan } from './session-egress.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Variables that point a CLI at its model's endpoint (ANTHROPIC_BASE_URL, OPENAI_BASE_URL, ...). */
const ENDPOINT_VARIABLE = /_(BASE_URL|API_BASE|API_URL|ENDPOINT)$/;

/**
 * What a session's agent may reach (pure): the hosts its adapter names, those the operator adds
 * (`egress.allow`), and the endpoint its environment points it at. An endpoint on the runner's
 * own loopback (a local model server) is also forwarded: the same address inside the sandbox
 * reaches it, so a CLI that ignores HTTP_PROXY still gets there.
 */
export function egressPlan(input: {
  adapterHosts: readonly string[];
  operatorAllow: readonly string[];
  env: Record<string, string>;
  /** A loopback port inside that is taken (the forwarder's own). */
  reservedPort: number;
}): EgressPlan {
  const allow = new Set([...input.adapterHosts, ...input.operatorAllow]);
  const forwards = new Set<string>();
  for (const [name, value] of Object.entries(input.env)) {
    if (!ENDPOINT_VARIABLE.test(name)) continue;
    const url = parseUrl(value);
    if (!url) continue;
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const target = `${url.hostname}:${port}`;
    allow.add(target);
    if (LOOPBACK.has(url.hostname) && port !== input.reservedPort) {
      forwards.add(`${target}=${port}`);
    }
  }
  return { allow: [...allow], forwards: [...forwards] };
}

function parseUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}
