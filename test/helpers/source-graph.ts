import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One source file: its path from the repository root ('src/github/app.ts') and its text. */
export interface Source {
  file: string;
  text: string;
}

/** An import or `export ... from` as written in a file. */
export interface ImportStatement {
  specifier: string;
  line: number;
  kind: 'import' | 'export' | 'side-effect' | 'dynamic';
  typeOnly: boolean;
}

/** An import resolved to another file of the scanned set. */
export interface Edge {
  from: string;
  to: string;
  specifier: string;
  line: number;
  typeOnly: boolean;
}

export interface SourceGraph {
  files: string[];
  edges: Edge[];
  /** Relative specifiers that name no scanned file; the scan would silently miss them. */
  unresolved: Edge[];
}

/** Every .ts/.tsx file under `dir` (a folder of `root`), sorted, with forward slashes. */
export function readSources(root: string, dir = 'src'): Source[] {
  const names = readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' });
  return names
    .filter((name) => /\.tsx?$/.test(name))
    .map((name) => `${dir}/${name.split(path.sep).join('/')}`)
    .sort()
    .map((file) => ({ file, text: readFileSync(path.join(root, file), 'utf8') }));
}

/** Lines as `wc -l` would count them, plus a last line without a newline. */
export function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text[i] === '\n') line++;
  return line;
}

/**
 * The text with every comment replaced by spaces (newlines kept, so offsets and line numbers
 * still hold). Strings, template literals (with nested `${}`) and regex literals are skipped so
 * that a `//` or a quote inside them is not taken for a comment or a string.
 */
export function stripComments(text: string): string {
  const out = text.split('');
  scanCode(text, out, 0, false);
  return out.join('');
}

function scanCode(text: string, out: string[], start: number, inTemplate: boolean): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && (next === '/' || next === '*')) i = blankComment(text, out, i);
    else if (c === "'" || c === '"') i = skipQuoted(text, i);
    else if (c === '`') i = scanTemplate(text, out, i + 1);
    else if (c === '/' && regexMayStart(out, i)) i = skipRegex(text, i);
    else {
      if (c === '{') depth++;
      if (c === '}' && inTemplate && depth-- === 0) return i + 1;
      i++;
    }
  }
  return i;
}

function blankComment(text: string, out: string[], start: number): number {
  const block = text[start + 1] === '*';
  const found = block ? text.indexOf('*/', start + 2) : text.indexOf('\n', start);
  const end = found === -1 ? text.length : found + (block ? 2 : 0);
  for (let k = start; k < end; k++) if (out[k] !== '\n') out[k] = ' ';
  return end;
}

/** A quoted string ends at its quote, or (unterminated, e.g. an apostrophe in JSX text) at the line end. */
function skipQuoted(text: string, start: number): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length && text[i] !== quote && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
  return text[i] === quote ? i + 1 : i;
}

function scanTemplate(text: string, out: string[], start: number): number {
  let i = start;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === '`') return i + 1;
    else if (text[i] === '$' && text[i + 1] === '{') i = scanCode(text, out, i + 2, true);
    else i++;
  }
  return i;
}

const BEFORE_REGEX = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const KEYWORDS_BEFORE_REGEX = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of']);

/** A `/` starts a regex, not a division, after an operator, a bracket or a keyword like `return`. */
function regexMayStart(out: string[], index: number): boolean {
  let i = index - 1;
  while (i >= 0 && /\s/.test(out[i]!)) i--;
  if (i < 0 || BEFORE_REGEX.has(out[i]!)) return true;
  let word = '';
  while (i >= 0 && /[\w$]/.test(out[i]!)) word = out[i--]! + word;
  return KEYWORDS_BEFORE_REGEX.has(word);
}

function skipRegex(text: string, start: number): number {
  let inClass = false;
  let i = start + 1;
  while (i < text.length && text[i] !== '\n') {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) return i + 1;
    i++;
  }
  return i;
}

// `import x from '...'`, `import type { A, B } from '...'` (over lines), `export * from '...'`,
// `export type { A } from '...'`. The clause may not run into the next import/export statement.
const FROM_STATEMENT =
  /^[ \t]*(import|export)\s+(type\s+)?((?:(?!\n[ \t]*(?:import|export)\b)[\w$*{},\s])+?)\s*from\s*(['"])([^'"\n]+)\4/gm;
const SIDE_EFFECT_IMPORT = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const DYNAMIC_IMPORT = /\bimport\s*\(\s*(['"`])([^'"`\n$]+)\1\s*\)/g;

/** The imports and re-exports of one file, comments ignored, in the order they appear. */
export function parseImports(text: string): ImportStatement[] {
  const code = stripComments(text);
  const found: (ImportStatement & { index: number })[] = [];
  for (const m of code.matchAll(FROM_STATEMENT)) {
    const index = m.index + m[0].search(/\S/);
    const kind = m[1] as 'import' | 'export';
    found.push({ index, specifier: m[5]!, line: 0, kind, typeOnly: m[2] !== undefined });
  }
  for (const m of code.matchAll(SIDE_EFFECT_IMPORT)) {
    const index = m.index + m[0].search(/\S/);
    found.push({ index, specifier: m[2]!, line: 0, kind: 'side-effect', typeOnly: false });
  }
  for (const m of code.matchAll(DYNAMIC_IMPORT)) {
    found.push({ index: m.index, specifier: m[2]!, line: 0, kind: 'dynamic', typeOnly: false });
  }
  return found
    .sort((a, b) => a.index - b.index)
    .map(({ index, ...statement }) => ({ ...statement, line: lineAt(code, index) }));
}

/**
 * The scanned file a relative specifier names ('../sessions/x.js' -> 'src/sessions/x.ts'),
 * `undefined` when it names none, `null` for a package ('hono', 'node:fs').
 */
export function resolveSpecifier(
  from: string,
  specifier: string,
  files: ReadonlySet<string>,
): string | null | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const stem = target.replace(/\.(m?js|jsx|m?ts|tsx)$/, '');
  const candidates = [target, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`];
  candidates.push(`${target}/index.ts`, `${target}/index.tsx`);
  return candidates.find((candidate) => files.has(candidate));
}

/** Every import between the given files; packages are left out, unresolvable relatives listed. */
export function buildGraph(sources: readonly Source[]): SourceGraph {
  const files = sources.map((source) => source.file);
  const known = new Set(files);
  const edges: Edge[] = [];
  const unresolved: Edge[] = [];
  for (const { file, text } of sources) {
    for (const { specifier, line, typeOnly } of parseImports(text)) {
      const to = resolveSpecifier(file, specifier, known);
      if (to === null) continue;
      (to === undefined ? unresolved : edges).push({
        from: file,
        to: to ?? specifier,
        specifier,
        line,
        typeOnly,
      });
    }
  }
  return { files, edges, unresolved };
}

/**
 * Import cycles, each as a closed chain ['a', 'b', 'a']. Tarjan's algorithm finds the strongly
 * connected components; for each file in a component the shortest cycle through it is reported
 * (deduplicated), so every file in a tangle shows up in some chain without listing every cycle.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  for (const component of stronglyConnected(graph)) {
    const members = new Set(component);
    for (const start of [...component].sort()) {
      const cycle = shortestCycle(graph, members, start);
      if (!cycle) continue;
      const open = rotateToSmallest(cycle.slice(0, -1));
      cycles.set(open.join('\n'), [...open, open[0]!]);
    }
  }
  return [...cycles.values()].sort((a, b) => a.join().localeCompare(b.join()));
}

function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    components.push(component);
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}

/** Breadth-first from `start` back to itself, inside one component: ['a', ..., 'a'] or undefined. */
function shortestCycle(
  graph: ReadonlyMap<string, readonly string[]>,
  members: ReadonlySet<string>,
  start: string,
): string[] | undefined {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [start, node];
        for (let at = node; at !== start; at = cameFrom.get(at)!) path.push(cameFrom.get(at)!);
        return path.reverse();
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

function rotateToSmallest(open: readonly string[]): string[] {
  const smallest = open.reduce((min, node, i) => (node < open[min]! ? i : min), 0);
  return [...open.slice(smallest), ...open.slice(0, smallest)];
}

/** The graph as adjacency lists, one entry per file, targets deduplicated. */
export function adjacency(graph: SourceGraph): Map<string, string[]> {
  const map = new Map<string, string[]>(graph.files.map((file) => [file, []]));
  for (const { from, to } of graph.edges) {
    const targets = map.get(from)!;
    if (!targets.includes(to)) targets.push(to);
  }
  return map;
}

/** A write to the sessions table found in a file. */
export interface TableWrite {
  line: number;
  code: string;
}

/**
 * Writes to the `sessions` table: drizzle's `.update(sessions)`, `.insert(sessions)`,
 * `.delete(sessions)` (also `schema.sessions` or an alias imported as `sessions as x`), and SQL
 * text `update sessions`, `insert into sessions`, `delete from sessions` (also `${sessions}`).
 * Comments are ignored.
 */
export function findSessionsWrites(text: string): TableWrite[] {
  const code = stripComments(text);
  const schemaImports = code.matchAll(
    /\bimport\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"][^'"]*schema/g,
  );
  const aliases = [...schemaImports].flatMap((m) =>
    [...m[1]!.matchAll(/\bsessions\s+as\s+([\w$]+)/g)].map((alias) => alias[1]!),
  );
  const names = ['sessions', ...aliases].join('|');
  const drizzle = new RegExp(
    `\\.\\s*(?:update|insert|delete)\\s*\\(\\s*(?:[\\w$]+\\s*\\.\\s*)?(?:${names})\\s*\\)`,
    'g',
  );
  const raw = new RegExp(
    `\\b(?:update|insert\\s+into|delete\\s+from)\\s+(?:only\\s+)?` +
      `(?:\\$\\{\\s*(?:[\\w$]+\\s*\\.\\s*)?(?:${names})\\s*\\}|(?:"?public"?\\.)?"?sessions"?(?![\\w$]))`,
    'gi',
  );
  return [...code.matchAll(drizzle), ...code.matchAll(raw)]
    .sort((a, b) => a.index - b.index)
    .map((m) => ({ line: lineAt(code, m.index), code: m[0].replace(/\s+/g, ' ').trim() }));
}
