import type { AgentAdapter } from './adapter.js';
import { aiderAdapter } from './aider.js';
import { claudeCodeAdapter } from './claude-code.js';
import { codexAdapter } from './codex.js';
import { opencodeAdapter } from './opencode.js';

/** The adapters that need no configuration, by name. */
export const builtInAdapters: Readonly<Record<string, AgentAdapter>> = {
  [claudeCodeAdapter.name]: claudeCodeAdapter,
  [codexAdapter.name]: codexAdapter,
  [aiderAdapter.name]: aiderAdapter,
  [opencodeAdapter.name]: opencodeAdapter,
};
