import type { JsonObject } from './json-line.js';

const MAX_LENGTH = 120;

/** Input keys that say best what a tool call touched, most telling first, across the CLIs. */
const KEYS = [
  'file_path',
  'filePath',
  'notebook_path',
  'path',
  'command',
  'pattern',
  'url',
  'query',
  'description',
];

/** A short one-line summary of a tool call's input: the file, command or pattern it names. */
export function summarizeToolInput(input: JsonObject | undefined): string | undefined {
  if (!input) return undefined;
  for (const key of KEYS) {
    const value = input[key];
    if (typeof value === 'string' && value.trim() !== '') return shorten(value);
  }
  return undefined;
}

/** One line, at most MAX_LENGTH characters. */
export function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= MAX_LENGTH ? line : `${line.slice(0, MAX_LENGTH - 1)}…`;
}
