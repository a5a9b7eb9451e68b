/**
 * autocannon in a process of its own, so the load generator neither shares an event loop with
 * the servers it measures nor with the local GitHub. Takes one JSON argument (LoadOptions),
 * prints one JSON line (LoadResult). Every request carries a new X-GitHub-Delivery id and
 * cycles through the given deliveries, each signed once.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { sign } from '../../test/helpers/webhooks.js';

export interface LoadOptions {
  url: string;
  secret: string;
  /** Requests per second from all connections together (autocannon's overallRate). */
  rate: number;
  seconds: number;
  connections: number;
  deliveries: { event: string; body: string }[];
}

export interface LoadResult {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const signed = options.deliveries.map((d) => ({ ...d, signature: sign(options.secret, d.body) }));
let next = 0;
const result = await autocannon({
  url: `${options.url}/api/github/webhooks`,
  method: 'POST',
  connections: options.connections,
  duration: options.seconds,
  overallRate: options.rate,
  timeout: 10,
  requests: [
    {
      setupRequest: (request) => {
        const delivery = signed[next++ % signed.length]!;
        return {
          ...request,
          method: 'POST',
          path: '/api/github/webhooks',
          body: delivery.body,
          headers: {
            'content-type': 'application/json',
            'x-github-event': delivery.event,
            'x-github-delivery': randomUUID(),
            'x-hub-signature-256': delivery.signature,
          },
        };
      },
    },
  ],
});
const output: LoadResult = {
  p50: result.latency.p50,
  p90: result.latency.p90,
  p99: result.latency.p99,
  max: result.latency.max,
  mean: result.latency.mean,
  total: result.requests.total,
  ok: result['2xx'],
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  seconds: result.duration,
};
process.stdout.write(`${JSON.stringify(output)}\n`);
