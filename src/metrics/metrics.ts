import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Labels stay few and bounded: no repository names, issue titles or tokens ever become one. */
export type Metrics = ReturnType<typeof createMetrics>;

/** How a webhook request ended, as counted in `webhook_deliveries_total`. */
export type DeliveryOutcome =
  | 'accepted'
  | 'duplicate'
  | 'bad_signature'
  | 'bad_request'
  | 'too_large'
  | 'unavailable'
  | 'busy'
  | 'error';

export interface FinishedTurn {
  agent: string;
  /** ok, agent-failed, agent-stuck or stopped. */
  outcome: string;
  seconds: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

/** What the runner reports; a standalone runner has nowhere to expose it and passes none. */
export interface TurnMetrics {
  turnFinished(turn: FinishedTurn): void;
}

/** Where jobs that gave up are counted; a standalone runner has no registry and passes none. */
export interface JobMetrics {
  jobDead(kind: string): void;
}

/**
 * One Prometheus registry per orchestrator (never prom-client's global one, so several
 * instances in one process keep their own counts), with the process metrics on it too.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const name = (suffix: string) => `agent_orchestrator_${suffix}`;

  const webhookDeliveries = new Counter({
    name: name('webhook_deliveries_total'),
    help: 'Webhook requests by GitHub event and how they were answered.',
    labelNames: ['event', 'outcome'] as const,
    registers,
  });
  const webhookAckSeconds = new Histogram({
    name: name('webhook_ack_duration_seconds'),
    help: 'Time from a webhook request arriving to its answer.',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const turnSeconds = new Histogram({
    name: name('turn_duration_seconds'),
    help: 'Agent turns by agent and outcome (ok, agent-failed, agent-stuck, over-budget, stopped).',
    labelNames: ['agent', 'outcome'] as const,
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
    registers,
  });
  const agentCost = new Counter({
    name: name('agent_cost_usd_total'),
    help: 'What agents reported their turns cost, in US dollars.',
    labelNames: ['agent'] as const,
    registers,
  });
  const agentTokens = new Counter({
    name: name('agent_tokens_total'),
    help: 'Tokens agents reported for their turns, by direction (input or output).',
    labelNames: ['agent', 'direction'] as const,
    registers,
  });
  const githubRequests = new Counter({
    name: name('github_requests_total'),
    help: 'GitHub API calls by method, route template and status class (2xx, 4xx, 5xx, error).',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const githubRateLimitRemaining = new Gauge({
    name: name('github_rate_limit_remaining'),
    help: 'x-ratelimit-remaining of the latest GitHub answer, by installation (or app) and resource.',
    labelNames: ['installation', 'resource'] as const,
    registers,
  });
  const sessions = new Gauge({
    name: name('sessions'),
    help: 'Sessions by status, read from the database when scraped (at most every 10 s).',
    labelNames: ['status'] as const,
    registers,
  });
  const jobs = new Gauge({
    name: name('jobs'),
    help: 'Jobs by kind and state (pending, running, done, dead), read from the database when scraped (at most every 10 s).',
    labelNames: ['kind', 'state'] as const,
    registers,
  });
  const jobsDead = new Counter({
    name: name('jobs_dead_total'),
    help: 'Jobs this process marked dead: their attempts ran out (or retrying could not help), by kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const jobsRetrying = new Gauge({
    name: name('jobs_retrying'),
    help: 'Pending jobs that failed at least once and wait to run again, by kind, read from the database when scraped (at most every 10 s).',
    labelNames: ['kind'] as const,
    registers,
  });
  // Per repository by GitHub's numeric id, never its name; only repositories with a session
  // active today (UTC), so the series stay as few as the work in progress.
  const budgetLabels = ['repository_id', 'resource', 'window'] as const;
  const budgetUsed = new Gauge({
    name: name('budget_used'),
    help: 'What a repository spent today (UTC): resource turns or cost_usd, window day; repositories with a session active today.',
    labelNames: budgetLabels,
    registers,
  });
  const budgetRemaining = new Gauge({
    name: name('budget_remaining'),
    help: "What is left of a repository's daily limit today (UTC), only where a limit is set.",
    labelNames: budgetLabels,
    registers,
  });
  const guardTrips = new Gauge({
    name: name('guard_trips'),
    help: 'Loop guards and budgets that paused a session, by kind, as recorded in the database (all time).',
    labelNames: ['kind'] as const,
    registers,
  });
  const databaseUp = new Gauge({
    name: name('database_up'),
    help: '1 when the database answered the latest read of the gauges, 0 when it did not.',
    registers,
  });

  return {
    registry,
    webhookDeliveries,
    webhookAckSeconds,
    githubRequests,
    githubRateLimitRemaining,
    sessions,
    jobs,
    jobsRetrying,
    budgetUsed,
    budgetRemaining,
    guardTrips,
    databaseUp,

    /** Records one answered webhook request. */
    deliveryAnswered(event: string, outcome: DeliveryOutcome, seconds: number) {
      webhookDeliveries.inc({ event, outcome });
      webhookAckSeconds.observe({ outcome }, seconds);
    },

    /** Counts a job this process marked dead. */
    jobDead(kind: string) {
      jobsDead.inc({ kind });
    },

    /** Records a turn the runner saw finish: its duration, cost and tokens. */
    turnFinished(turn: FinishedTurn) {
      const { agent } = turn;
      turnSeconds.observe({ agent, outcome: turn.outcome }, Math.max(0, turn.seconds));
      agentCost.inc({ agent }, Math.max(0, turn.costUsd));
      if (turn.inputTokens > 0) agentTokens.inc({ agent, direction: 'input' }, turn.inputTokens);
      if (turn.outputTokens > 0) agentTokens.inc({ agent, direction: 'output' }, turn.outputTokens);
    },
  };
}
