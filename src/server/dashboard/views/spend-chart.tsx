import type { DaySpend } from '../../repository-spend.js';
import { cost } from './format.js';

// The drawing's own units; the style sheet scales it to the card's width.
const WIDTH = 420;
const HEIGHT = 150;
const LEFT = 8;
const RIGHT = 8;
const TOP = 22;
const BOTTOM = 20;
const PLOT_HEIGHT = HEIGHT - TOP - BOTTOM;
const BASELINE = HEIGHT - BOTTOM;

export interface SpendChartProps {
  /** For the ids of the title and description, unique on the page. */
  id: string;
  repository: string;
  /** Oldest first, today last. */
  days: DaySpend[];
  /** The repository's daily cost limit, drawn as a line when set. */
  limitUsd: number | undefined;
}

const turnsText = (n: number) => `${n} turn${n === 1 ? '' : 's'}`;

/** Every day's amount in words: what a screen reader says for the chart. */
export function spendDescription(p: SpendChartProps): string {
  const first = p.days[0]?.day ?? '';
  const last = p.days.at(-1)?.day ?? '';
  const each = p.days.map((d) => `${d.day}: ${cost(d.costUsd)}, ${turnsText(d.turns)}`);
  const limit =
    p.limitUsd === undefined ? 'No daily cost limit.' : `Daily limit ${cost(p.limitUsd)}.`;
  return `Spend of ${p.repository} per UTC day from ${first} to ${last}, today last. ${each.join('; ')}. ${limit}`;
}

/**
 * Spend per day as bars, server-rendered: no script, and no inline style (the page's policy
 * allows neither); colours come from the style sheet's classes. The title and description
 * carry every amount, and each bar has its own title for a pointer.
 */
export function SpendChart(p: SpendChartProps) {
  const top = Math.max(...p.days.map((d) => d.costUsd), p.limitUsd ?? 0);
  const scale = top > 0 ? top : 1;
  const y = (usd: number) => BASELINE - (usd / scale) * PLOT_HEIGHT;
  const slot = (WIDTH - LEFT - RIGHT) / Math.max(p.days.length, 1);
  const barWidth = Math.max(2, slot * 0.7);
  const x = (i: number) => LEFT + i * slot + (slot - barWidth) / 2;
  const round = (n: number) => Math.round(n * 10) / 10;
  const titleId = `${p.id}-title`;
  const descId = `${p.id}-desc`;
  return (
    <svg
      class="spend-chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-labelledby={`${titleId} ${descId}`}
    >
      <title id={titleId}>{`Spend per day of ${p.repository}, last ${p.days.length} days`}</title>
      <desc id={descId}>{spendDescription(p)}</desc>
      <text class="axis" x={LEFT} y={12}>
        {top > 0 ? cost(top) : 'no spend'}
      </text>
      <line class="grid" x1={LEFT} x2={WIDTH - RIGHT} y1={TOP} y2={TOP} />
      <line class="baseline" x1={LEFT} x2={WIDTH - RIGHT} y1={BASELINE} y2={BASELINE} />
      {p.limitUsd !== undefined && (
        <>
          <line
            class="limit"
            x1={LEFT}
            x2={WIDTH - RIGHT}
            y1={round(y(p.limitUsd))}
            y2={round(y(p.limitUsd))}
          />
          <text class="axis limit-label" x={WIDTH - RIGHT} y={round(y(p.limitUsd)) - 4}>
            {`limit ${cost(p.limitUsd)}`}
          </text>
        </>
      )}
      {p.days.map((d, i) => {
        const today = i === p.days.length - 1;
        const over = p.limitUsd !== undefined && d.costUsd >= p.limitUsd;
        const height = round(BASELINE - y(d.costUsd));
        return (
          <g class={`day${today ? ' today' : ''}`} data-day={d.day}>
            <rect
              class={`bar${over ? ' over' : ''}`}
              x={round(x(i))}
              y={round(BASELINE - height)}
              width={round(barWidth)}
              height={height}
            >
              <title>{`${d.day}: ${cost(d.costUsd)}, ${turnsText(d.turns)}`}</title>
            </rect>
            <text class="axis day-label" x={round(x(i) + barWidth / 2)} y={HEIGHT - 6}>
              {String(Number(d.day.slice(8)))}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
