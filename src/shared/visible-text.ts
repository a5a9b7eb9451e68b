import type { Nodes } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown, gfmToMarkdown } from 'mdast-util-gfm';
import { toMarkdown } from 'mdast-util-to-markdown';
import { gfm } from 'micromark-extension-gfm';

// Format characters (zero-width, bidirectional, soft hyphen, BOM, tags) and control characters
// other than tab and newline: text a reader cannot see but a model would obey.
const FORMAT_OR_CONTROL = /^[\p{Cf}\p{Cc}]$/u;
// Blank "letters" and variation selectors that render as nothing.
const BLANK = new Set([0x115f, 0x1160, 0x17b4, 0x17b5, 0x3164, 0xffa0]);
const isInvisible = (cp: number, ch: string) =>
  (ch !== '\n' && ch !== '\t' && FORMAT_OR_CONTROL.test(ch)) ||
  BLANK.has(cp) ||
  (cp >= 0x180b && cp <= 0x180f) ||
  (cp >= 0xfe00 && cp <= 0xfe0f) ||
  (cp >= 0xe0100 && cp <= 0xe01ef);

/**
 * Plain text (a title, a log) without the characters nobody sees: zero-width, bidirectional and
 * control characters, blank letters, variation selectors. Line endings become `\n`.
 */
export function visiblePlainText(text: string): string {
  let out = '';
  for (const ch of text.replace(/\r\n?/g, '\n'))
    if (!isInvisible(ch.codePointAt(0)!, ch)) out += ch;
  return out;
}

/**
 * Markdown as GitHub shows it to a reader, in its own source: invisible characters are removed
 * first, then the text is parsed (CommonMark with GitHub's extensions) and what renders as
 * nothing or only on hover is cut out of the source: HTML (blocks, inline tags and comments),
 * link reference definitions, and the titles of links and images. Everything else is kept as
 * written, code included.
 */
export function visibleMarkdown(text: string): string {
  const source = visiblePlainText(text);
  const tree = fromMarkdown(source, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  const edits: Edit[] = [];
  for (const block of tree.children) {
    if (!isHidden(block)) collectHidden(block, edits);
    else edits.push(wholeBlock(spanOf(block, ''), source));
  }
  let out = source;
  // From the end, so the offsets of the edits still to make stay right.
  for (const edit of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out.replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The spans to cut: the nodes never overlap, as a hidden node's children are not visited. */
function collectHidden(node: Nodes, edits: Edit[]): void {
  if (isHidden(node)) {
    edits.push(spanOf(node, ''));
  } else if ((node.type === 'link' || node.type === 'image') && node.title) {
    // The title is shown only on hover: the link is written again without it.
    const serialized = toMarkdown(withoutHidden(node), { extensions: [gfmToMarkdown()] });
    edits.push(spanOf(node, serialized.replace(/\n$/, '')));
  } else if ('children' in node) {
    for (const child of node.children) collectHidden(child, edits);
  }
}

const isHidden = (node: Nodes) => node.type === 'html' || node.type === 'definition';

/** A top-level block after a blank line takes the blank lines after it along. */
function wholeBlock(edit: Edit, source: string): Edit {
  if (edit.start > 0 && !source.slice(0, edit.start).endsWith('\n\n')) return edit;
  let end = edit.end;
  while (source[end] === '\n') end++;
  return { ...edit, end };
}

function spanOf(node: Nodes, text: string): Edit {
  const { start, end } = node.position!;
  return { start: start.offset!, end: end.offset!, text };
}

/** A copy of the node with no HTML, definitions or titles anywhere in it. */
function withoutHidden<T extends Nodes>(node: T): T {
  const copy: Record<string, unknown> = { ...node };
  if ('title' in copy) copy.title = null;
  if ('children' in node)
    copy.children = (node.children as Nodes[]).filter((c) => !isHidden(c)).map(withoutHidden);
  return copy as T;
}
