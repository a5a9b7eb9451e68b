import { readFileSync } from 'node:fs';
import type {
  AgentAdapter,
  AgentEvent,
  FirstTurnInput,
  NextTurnInput,
} from '../../../src/runner/adapters/adapter.js';

/** Feeds a recorded output file to a fresh parser, line by line, as the runner does. */
export function parseFixture(adapter: AgentAdapter, name: string): AgentEvent[] {
  const text = readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
  return parseLines(adapter, text.split('\n'));
}

export function parseLines(adapter: AgentAdapter, lines: string[]): AgentEvent[] {
  const parse = adapter.createParser();
  return lines.flatMap((line) => parse(line));
}

export function firstTurn(profile: FirstTurnInput['profile'] = {}): FirstTurnInput {
  return { workdir: '/work/repo', promptFile: '/state/s-abc123/prompt.md', profile };
}

export function nextTurn(
  sessionRef: string | null,
  profile: NextTurnInput['profile'] = {},
): NextTurnInput {
  return { workdir: '/work/repo', messageFile: '/state/s-abc123/turn-2.md', sessionRef, profile };
}
