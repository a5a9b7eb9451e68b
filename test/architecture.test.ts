import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  adjacency,
  buildGraph,
  type Edge,
  findCycles,
  findSessionsWrites,
  lineCount,
  median,
  parseImports,
  readSources,
  type Source,
} from './helpers/source-graph.js';

// The architecture of src/, as data. A group is the first folder under src/; files directly in
// src/ are `top`. The entry point src/cli.ts only wires commands together, so it is judged as cli/.

const FEATURE_FOLDERS = [
  'github',
  'runner',
  'sessions',
  'notify',
  'server',
  'composition',
  'cli',
  'mcp',
  'metrics',
] as const;
const GROUPS = [...FEATURE_FOLDERS, 'jobs', 'db', 'shared', 'top'] as const;
type Group = (typeof GROUPS)[number];

/** Group -> the groups it must never import (type-only imports included). */
const FORBIDDEN_IMPORTS: Record<Group, readonly Group[]> = {
  github: ['runner', 'composition'],
  runner: ['github', 'composition'],
  sessions: ['github', 'runner', 'server', 'composition'],
  // The notification job parses its payload with the schema sessions/ keeps for it.
  notify: ['github', 'runner', 'server', 'composition'],
  server: ['runner', 'composition'],
  jobs: [...FEATURE_FOLDERS],
  db: [...FEATURE_FOLDERS, 'jobs', 'top'],
  // Helpers more than one folder reads (the log tail): they import nothing of ours.
  shared: [...FEATURE_FOLDERS, 'jobs', 'db', 'top'],
  top: [...FEATURE_FOLDERS],
  mcp: ['composition'],
  metrics: ['composition'],
  // Only the composition module and the CLI that starts it may import composition/.
  composition: [],
  cli: [],
};

const ENTRY_POINTS: Readonly<Record<string, Group>> = { 'src/cli.ts': 'cli' };

/** The one file that may write the sessions table (and so a session's status). */
const SESSIONS_WRITER = 'src/sessions/session-service.ts';

const MAX_LINES = 300;
const MAX_MEDIAN_LINES = 100;

function groupOf(file: string): string {
  const entry = ENTRY_POINTS[file];
  if (entry) return entry;
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : 'top';
}

function describeGroup(group: string): string {
  return group === 'top' ? 'top-level files' : `${group}/`;
}

/** Each import that crosses a forbidden boundary, as 'file:line imports target (reason)'. */
function directionViolations(edges: readonly Edge[]): string[] {
  return edges.flatMap(({ from, to, line, typeOnly }) => {
    const source = groupOf(from);
    const target = groupOf(to);
    const forbidden: readonly string[] = FORBIDDEN_IMPORTS[source as Group] ?? [];
    if (source === target || !forbidden.includes(target)) return [];
    const how = typeOnly ? 'imports type from' : 'imports';
    return [
      `${from}:${line} ${how} ${to} (${describeGroup(source)} must not import ${describeGroup(target)})`,
    ];
  });
}

function sessionsWriteViolations(sources: readonly Source[]): string[] {
  return sources
    .filter(({ file }) => file !== SESSIONS_WRITER)
    .flatMap(({ file, text }) =>
      findSessionsWrites(text).map(({ line, code }) => `${file}:${line} ${code}`),
    );
}

function cycleChains(graph: ReadonlyMap<string, readonly string[]>): string[] {
  return findCycles(graph).map((cycle) => cycle.join(' -> '));
}

const root = fileURLToPath(new URL('..', import.meta.url));
const sources = readSources(root);
const graph = buildGraph(sources);

describe('the shape of src/', () => {
  it('every relative import in src/ resolves to a .ts/.tsx file in src/', () => {
    expect(sources.length, 'no files found under src/').toBeGreaterThan(0);
    expect(graph.edges.length, 'no imports between files found under src/').toBeGreaterThan(0);
    const broken = graph.unresolved.map(
      ({ from, line, specifier }) => `${from}:${line} ${specifier}`,
    );
    expect(broken, 'imports the scan cannot follow').toEqual([]);
  });

  it('every folder under src/ has a row in the import rule table', () => {
    const unknown = [...new Set(sources.map(({ file }) => groupOf(file)))].filter(
      (group) => !(GROUPS as readonly string[]).includes(group),
    );
    expect(unknown, 'add these folders to FORBIDDEN_IMPORTS').toEqual([]);
  });

  it(`no file in src/ is over ${MAX_LINES} lines`, () => {
    const tooLong = sources
      .map(({ file, text }) => ({ file, lines: lineCount(text) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .sort((a, b) => b.lines - a.lines)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(tooLong, `files over ${MAX_LINES} lines; split them by concept`).toEqual([]);
  });

  it(`the median file in src/ is under ${MAX_MEDIAN_LINES} lines`, () => {
    const counts = sources.map(({ file, text }) => ({ file, lines: lineCount(text) }));
    const middle = median(counts.map(({ lines }) => lines));
    const large = counts
      .filter(({ lines }) => lines >= MAX_MEDIAN_LINES)
      .sort((a, b) => b.lines - a.lines)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    const report = `median is ${middle} lines over ${counts.length} files; ${large.length} files of ${MAX_MEDIAN_LINES}+ lines:\n${large.join('\n')}`;
    expect(middle, report).toBeLessThan(MAX_MEDIAN_LINES);
  });

  it('src/ has no import cycles (type-only imports count)', () => {
    expect(cycleChains(adjacency(graph)), 'import cycles').toEqual([]);
  });

  it('no folder imports a folder the component table forbids (type-only imports count)', () => {
    expect(directionViolations(graph.edges), 'forbidden imports').toEqual([]);
  });

  it(`only ${SESSIONS_WRITER} writes the sessions table`, () => {
    expect(sessionsWriteViolations(sources), 'writes to sessions outside the service').toEqual([]);
  });
});

describe('the architecture checkers catch violations', () => {
  it('the rule table lets only composition/ and cli/ import composition/', () => {
    const importers = GROUPS.filter((group) => !FORBIDDEN_IMPORTS[group].includes('composition'));
    expect(importers.sort()).toEqual(['cli', 'composition']);
  });

  it('the cycle finder reports a -> b -> a and nothing for a chain', () => {
    const cyclic = new Map([
      ['a', ['b']],
      ['b', ['a', 'c']],
      ['c', []],
    ]);
    expect(cycleChains(cyclic)).toEqual(['a -> b -> a']);
    expect(cycleChains(new Map([['x', ['x']]]))).toEqual(['x -> x']);
    const chain = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', []],
    ]);
    expect(cycleChains(chain)).toEqual([]);
  });

  it('the cycle finder sees a cycle made of a type-only import', () => {
    const tiny = buildGraph([
      { file: 'src/sessions/a.ts', text: "import type { B } from './b.js';\nexport type A = B;\n" },
      { file: 'src/sessions/b.ts', text: "import { a } from './a.js';\nexport const b = a;\n" },
    ]);
    expect(cycleChains(adjacency(tiny))).toEqual([
      'src/sessions/a.ts -> src/sessions/b.ts -> src/sessions/a.ts',
    ]);
  });

  it('the import parser reads every form of import and export-from, and skips comments', () => {
    const text = [
      "import type { X } from '../runner/x.js';",
      'import {',
      '  a,',
      '  type B,',
      "} from './multi.js';",
      "import * as ns from './ns.js';",
      "import def, { c } from './def.js';",
      "import './side-effect.js';",
      "export * from './star.js';",
      "export type { Y } from './types.js';",
      "export { z as zed } from './re-export.js';",
      "// import { gone } from './commented.js';",
      "/* import { gone } from './block-commented.js'; */",
      "const lazy = () => import('./lazy.js');",
      "const url = 'https://example.com'; // a comment with from './nowhere.js'",
      'const quote = /[\'"`]/; const text = "import x from \'./in-a-string.js\'";',
    ].join('\n');
    expect(
      parseImports(text).map(({ specifier, line, typeOnly }) => [specifier, line, typeOnly]),
    ).toEqual([
      ['../runner/x.js', 1, true],
      ['./multi.js', 2, false],
      ['./ns.js', 6, false],
      ['./def.js', 7, false],
      ['./side-effect.js', 8, false],
      ['./star.js', 9, false],
      ['./types.js', 10, true],
      ['./re-export.js', 11, false],
      ['./lazy.js', 14, false],
    ]);
  });

  it('an `import type` from runner/ inside github/ is a violation', () => {
    const tiny = buildGraph([
      { file: 'src/github/handler.ts', text: "import type { X } from '../runner/x.js';\n" },
      { file: 'src/runner/x.ts', text: 'export type X = number;\n' },
    ]);
    expect(directionViolations(tiny.edges)).toEqual([
      'src/github/handler.ts:1 imports type from src/runner/x.ts (github/ must not import runner/)',
    ]);
  });

  it('folders a file may import are not reported, and an unresolved import is', () => {
    const tiny = buildGraph([
      { file: 'src/jobs/queue.ts', text: "import { db } from '../db/client.js';\n" },
      { file: 'src/db/client.ts', text: "import { jobs } from '../jobs/queue.js';\n" },
      { file: 'src/cli.ts', text: "import { wire } from './composition/wire.js';\n" },
      { file: 'src/composition/wire.ts', text: "import { x } from '../missing.js';\n" },
    ]);
    expect(directionViolations(tiny.edges)).toEqual([
      'src/db/client.ts:1 imports src/jobs/queue.ts (db/ must not import jobs/)',
    ]);
    expect(tiny.unresolved.map(({ from, specifier }) => `${from} ${specifier}`)).toEqual([
      'src/composition/wire.ts ../missing.js',
    ]);
  });

  it('the sessions-write detector reports drizzle writes and SQL text, not reads or comments', () => {
    const text = [
      "import { sessions, sessionEvents } from '../db/schema.js';",
      'await tx.update(sessions).set({ status }).where(eq(sessions.id, id));',
      'await db',
      '  .insert(sessions)',
      '  .values(row);',
      'await db.delete(sessions);',
      `await db.execute(sql\`update \${sessions} set status = 'done'\`);`,
      `await sql\`INSERT INTO sessions (id) values (\${id})\`;`,
      'await db.select().from(sessions);',
      'await db.update(sessionEvents).set({ seen: true });',
      '// update sessions here once the service exists; db.update(sessions)',
    ].join('\n');
    expect(findSessionsWrites(text)).toEqual([
      { line: 2, code: '.update(sessions)' },
      { line: 4, code: '.insert(sessions)' },
      { line: 6, code: '.delete(sessions)' },
      { line: 7, code: `update \${sessions}` },
      { line: 8, code: 'INSERT INTO sessions' },
    ]);
  });

  it('the sessions-write detector follows an alias of the sessions table', () => {
    const text = "import { sessions as s } from '../db/schema.js';\nawait db.update(s).set({});\n";
    expect(findSessionsWrites(text)).toEqual([{ line: 2, code: '.update(s)' }]);
  });

  it('the sessions writer itself is exempt, any other file is reported', () => {
    const write = 'await db.update(sessions).set({ status });\n';
    expect(
      sessionsWriteViolations([
        { file: SESSIONS_WRITER, text: write },
        { file: 'src/github/lifecycle.ts', text: write },
      ]),
    ).toEqual(['src/github/lifecycle.ts:1 .update(sessions)']);
  });

  it('lines and the median are counted as wc -l would', () => {
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
    expect(median([5, 1, 300])).toBe(5);
    expect(median([1, 2, 3, 4])).toBe(2.5);
  });
});
