/**
 * Fitting a report into a character budget. A report is a tree of blocks: fixed text (headings)
 * is kept whole, flexible text keeps its start or its end, and a group shares what its fixed parts
 * leave over among its children by need, max-min fair: a child that needs less than an equal share
 * keeps everything, and what it leaves goes to the larger ones. Whatever is cut is marked.
 */
export type Block =
  /** Kept whole (headings, fences). */
  | { fixed: string }
  /** Keeps its start; the cut is marked at the end. */
  | { head: string }
  /** Keeps its end; the cut is marked at the start, adding any lines already cut before it. */
  | { tail: string; cutBefore?: number }
  /** Children joined with a separator, sharing the group's budget. */
  | { join: string; blocks: Block[] };

export const TRUNCATED = '[truncated]';

/** The marker for whole lines left out. */
export const linesTruncated = (n: number) => `[… ${n} line${n === 1 ? '' : 's'} truncated]`;

/** Renders a block in at most max characters (UTF-16 code units), marking every cut. */
export function fitBlock(block: Block, max: number): string {
  return keepHead(render(block, max), max);
}

function render(block: Block, budget: number): string {
  if ('fixed' in block) return block.fixed;
  if ('head' in block) return keepHead(block.head, budget);
  if ('tail' in block) return keepTail(block.tail, budget, block.cutBefore);
  const children = block.blocks;
  if (fullLength(block) <= budget) return children.map((c) => render(c, Infinity)).join(block.join);
  const floors = children.map(floorLength);
  const shares = share(
    children.map((c, i) => fullLength(c) - floors[i]!),
    Math.max(0, budget - floorLength(block)),
  );
  return children.map((c, i) => render(c, floors[i]! + shares[i]!)).join(block.join);
}

function fullLength(block: Block): number {
  if ('fixed' in block) return block.fixed.length;
  if ('head' in block) return block.head.length;
  if ('tail' in block) return withCutBefore(block.tail, block.cutBefore).length;
  return sum(block.blocks.map(fullLength)) + separators(block);
}

// A flexible block always keeps room to say that it was cut.
function floorLength(block: Block): number {
  if ('fixed' in block) return block.fixed.length;
  if ('head' in block) return Math.min(block.head.length, TRUNCATED.length);
  if ('tail' in block) return Math.min(block.tail.length, TRUNCATED.length);
  return sum(block.blocks.map(floorLength)) + separators(block);
}

const separators = (group: { join: string; blocks: Block[] }) =>
  group.join.length * Math.max(0, group.blocks.length - 1);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Splits budget among needs, max-min fair (water-filling). */
export function share(needs: number[], budget: number): number[] {
  const shares = needs.map(() => 0);
  const order = needs.map((_, i) => i).sort((a, b) => needs[a]! - needs[b]!);
  let left = budget;
  order.forEach((index, rank) => {
    const fair = Math.floor(left / (order.length - rank));
    shares[index] = Math.min(needs[index]!, fair);
    left -= shares[index]!;
  });
  return shares;
}

// A partial line is shown only when this much room is left for it.
const PARTIAL_MIN = 40;

/** Keeps the start of text within max characters: whole lines, then part of the next, then a marker. */
export function keepHead(text: string, max: number): string {
  if (text.length <= max) return text;
  const lines = text.split('\n');
  let kept = 0;
  let used = 0; // length of the kept lines with their newlines
  while (kept < lines.length) {
    const next = used + lines[kept]!.length + 1;
    if (next + linesTruncated(lines.length - kept - 1).length > max) break;
    used = next;
    kept++;
  }
  const marker = linesTruncated(lines.length - kept);
  if (kept === 0 && marker.length + PARTIAL_MIN > max) return cutChars(text, max);
  const room = max - used - marker.length - 1;
  const partial = room >= PARTIAL_MIN ? [`${safeSlice(lines[kept]!, 0, room - 1)}…`] : [];
  return [...lines.slice(0, kept), ...partial, marker].join('\n');
}

/**
 * Keeps the end of text within max characters: a marker, part of a line, then whole lines. The
 * marker's count includes cutBefore, the lines already left out before text.
 */
export function keepTail(text: string, max: number, cutBefore = 0): string {
  const whole = withCutBefore(text, cutBefore);
  if (whole.length <= max) return whole;
  const lines = text.split('\n');
  let kept = 0;
  let used = 0;
  while (kept < lines.length) {
    const next = used + lines[lines.length - 1 - kept]!.length + 1;
    if (next + linesTruncated(lines.length - kept - 1 + cutBefore).length > max) break;
    used = next;
    kept++;
  }
  const marker = linesTruncated(lines.length - kept + cutBefore);
  if (kept === 0 && marker.length + PARTIAL_MIN > max) {
    if (max <= TRUNCATED.length + 1) return max < TRUNCATED.length ? '' : TRUNCATED;
    return `${TRUNCATED} ${safeSlice(text, text.length - (max - TRUNCATED.length - 1))}`;
  }
  const room = max - used - marker.length - 1;
  const cut = lines[lines.length - 1 - kept]!;
  const partial = room >= PARTIAL_MIN ? [`…${safeSlice(cut, -(room - 1))}`] : [];
  return [marker, ...partial, ...lines.slice(lines.length - kept)].join('\n');
}

const withCutBefore = (text: string, cutBefore = 0) =>
  cutBefore > 0 ? `${linesTruncated(cutBefore)}\n${text}` : text;

function cutChars(text: string, max: number): string {
  if (max <= TRUNCATED.length + 1) return max < TRUNCATED.length ? '' : TRUNCATED;
  return `${safeSlice(text, 0, max - TRUNCATED.length - 1)} ${TRUNCATED}`;
}

// String.slice that never leaves half of a surrogate pair at a cut.
function safeSlice(text: string, start: number, end?: number): string {
  let out = text.slice(start, end);
  if (/[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
  if (/^[\uDC00-\uDFFF]/.test(out)) out = out.slice(1);
  return out;
}

// The fence lives in shared/, where the runner finds it too.
export { fenceFor } from '../shared/markdown-fence.js';

/** HTML comments: GitHub does not show them, and they would only spend the budget. */
export function dropHtmlComments(text: string): string {
  return text.replace(/<!--[\s\S]*?(?:-->|$)/g, '').trim();
}
