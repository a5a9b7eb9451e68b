import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../src/operator-config.js';
import { createAdapterRegistry } from '../src/runner/adapters/index.js';

const EXAMPLE = fileURLToPath(new URL('../orchestrator.example.yml', import.meta.url));

function fileWith(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ao-operator-')), 'orchestrator.yml');
  writeFileSync(file, text);
  return file;
}

describe('the operator config', () => {
  it('has defaults when no file is given', () => {
    expect(loadOperatorConfig(undefined)).toMatchObject({
      runtime: 'process',
      limits: { turnMinutes: 60 },
      allowedBots: [],
    });
  });

  it('loads the documented example, whose agent the runner can use', () => {
    const config = loadOperatorConfig(EXAMPLE);
    expect(config.profiles.careful).toMatchObject({ agent: 'claude-code' });
    const adapterFor = createAdapterRegistry({ agents: config.agents as never });
    expect(adapterFor('my-agent')?.binary).toBe('my-agent');
  });

  it.each([
    ['runtime: docker\n', 'runtime'],
    ['limits:\n  turnMinutes: -1\n', 'limits.turnMinutes'],
    [
      'agents:\n  bad:\n    firstTurn: ["{promptFile}"]\n    nextTurn: [x]\n',
      'agents.bad.firstTurn',
    ],
    ['notify:\n  webhook: { url: "https://x.example", secret: short }\n', 'notify.webhook.secret'],
    ['unknownKey: 1\n', '(top level)'],
  ])('rejects %j naming %s', (text, field) => {
    expect(() => loadOperatorConfig(fileWith(text))).toThrow(`: ${field}`);
  });

  it('says which file it could not read', () => {
    expect(() => loadOperatorConfig('/nonexistent/orchestrator.yml')).toThrow(
      'cannot read /nonexistent/orchestrator.yml',
    );
  });
});
