import { describe, expect, it } from 'vitest';
import { agentEnvironment } from '../../src/runner/agent-env.js';

const appEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----',
  WEBHOOK_SECRET: 'hook-secret',
  DATABASE_URL: 'postgres://app:pw@db/app',
  API_TOKEN: 'api-token-123456789',
  GITHUB_TOKEN: 'ghs_abc',
  GH_TOKEN: 'ghs_def',
  GITHUB_PAT_TOKEN: 'ghp_x',
  ANTHROPIC_API_KEY: 'sk-ant-123',
  UNRELATED: 'x',
};

describe('agentEnvironment', () => {
  it('passes the base variables and what was asked for, with its own HOME', () => {
    const env = agentEnvironment({
      from: appEnv,
      home: '/work/home',
      pass: ['ANTHROPIC_API_KEY'],
      set: { FOO: 'bar' },
    });
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      HOME: '/work/home',
      TERM: 'dumb',
      ANTHROPIC_API_KEY: 'sk-ant-123',
      FOO: 'bar',
      GIT_TERMINAL_PROMPT: '0',
    });
  });

  it("never passes the app's secrets or a GitHub token, even when an operator lists them", () => {
    const env = agentEnvironment({
      from: appEnv,
      home: '/h',
      pass: [
        'PRIVATE_KEY',
        'WEBHOOK_SECRET',
        'DATABASE_URL',
        'API_TOKEN',
        'GITHUB_TOKEN',
        'GH_TOKEN',
        'GITHUB_PAT_TOKEN',
      ],
      set: { GITHUB_TOKEN: 'set-by-operator' },
    });
    for (const secret of [
      'PRIVATE_KEY',
      'WEBHOOK_SECRET',
      'DATABASE_URL',
      'API_TOKEN',
      'GITHUB_TOKEN',
      'GH_TOKEN',
      'GITHUB_PAT_TOKEN',
    ]) {
      expect(env).not.toHaveProperty(secret);
    }
    expect(JSON.stringify(env)).not.toMatch(/hook-secret|ghs_|ghp_|postgres:/);
  });
});
