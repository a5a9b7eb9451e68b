export type { AgentAdapter, AgentEvent, AgentProfile, TurnCommand } from './adapter.js';
export {
  type AdapterRegistryConfig,
  AgentDefinitionError,
  createAdapterRegistry,
} from './adapter-registry.js';
export { aiderAdapter } from './aider.js';
export { builtInAdapters } from './built-in-adapters.js';
export { claudeCodeAdapter } from './claude-code.js';
export { codexAdapter } from './codex.js';
export {
  type CommandAgentDefinition,
  type CommandAgentDefinitionInput,
  commandAgentDefinitionSchema,
  createCommandAdapter,
} from './command.js';
export { opencodeAdapter } from './opencode.js';
