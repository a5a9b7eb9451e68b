import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Adds (or replaces) variables in a .env file, readable by its owner only; returns them all. */
export function mergeIntoEnvFile(
  file: string,
  vars: Record<string, string>,
): Record<string, string> {
  const merged = { ...readEnvFile(file), ...vars };
  writeFileSync(file, formatEnv(merged), { mode: 0o600 });
  return merged;
}

function readEnvFile(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([\w.]+)\s*=\s*(.*)$/.exec(line);
    if (match) vars[match[1]!] = match[2]!;
  }
  return vars;
}

function formatEnv(vars: Record<string, string>): string {
  return `${Object.entries(vars)
    .map(([key, value]) => `${key}=${value.replace(/\n/g, '\\n')}`)
    .join('\n')}\n`;
}
