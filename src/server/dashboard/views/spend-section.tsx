import type { RepositorySpend } from '../../repository-spend.js';
import { costAgainst, countAgainst } from './format.js';
import { SpendChart } from './spend-chart.js';

const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** How much of a limit is used, for the eye; the text beside it says the same in words. */
function Used({
  value,
  limit,
  label,
}: {
  value: number;
  limit: number | undefined;
  label: string;
}) {
  if (limit === undefined) return null;
  return (
    <meter
      min={0}
      max={limit}
      value={Math.min(value, limit)}
      high={limit * 0.8}
      optimum={0}
      aria-label={label}
    />
  );
}

function RepositoryCard({ r }: { r: RepositorySpend }) {
  const today = r.days.at(-1) ?? { day: '', costUsd: 0, turns: 0 };
  return (
    <article class="panel spend-card" id={`spend-${r.repositoryId}`} data-repository={r.name}>
      <h3>{r.name}</h3>
      <dl class="spend-today">
        <dt>Cost today</dt>
        <dd>
          <span class="spend-cost">{costAgainst(today.costUsd, r.limits.costUsd)}</span>
          <Used
            value={today.costUsd}
            limit={r.limits.costUsd}
            label={`${r.name}: cost today against its daily limit`}
          />
        </dd>
        <dt>Turns today</dt>
        <dd>
          <span class="spend-turns">{countAgainst(today.turns, r.limits.turns, 'turn')}</span>
          <Used
            value={today.turns}
            limit={r.limits.turns}
            label={`${r.name}: turns today against its daily limit`}
          />
        </dd>
      </dl>
      <SpendChart
        id={`spend-chart-${r.repositoryId}`}
        repository={r.name}
        days={r.days}
        limitUsd={r.limits.costUsd}
      />
      <p class="sub">
        Last {r.days.length} UTC days, {r.days[0]?.day} to {today.day}; limits as of the last
        session ({utc(r.limitsAsOf)}).
      </p>
    </article>
  );
}

/**
 * Each repository's spend and turns today (UTC) against its daily limits, with its spend per
 * day over the last two weeks. Not live: it is as of when the page was made.
 */
export function SpendSection({ spend, now }: { spend: RepositorySpend[]; now: Date }) {
  if (spend.length === 0) return null;
  return (
    <section id="spend" aria-labelledby="spend-heading">
      <div class="bar">
        <div class="title">
          <h2 id="spend-heading">Spend today ({now.toISOString().slice(0, 10)} UTC)</h2>
          <span class="muted">
            Turns and cost since midnight UTC against each repository's daily limits (limits as of
            the last session), as of {utc(now)}.
          </span>
        </div>
      </div>
      <div class="spend-grid">
        {spend.map((r) => (
          <RepositoryCard r={r} />
        ))}
      </div>
    </section>
  );
}
