import { z } from 'zod';
import type { AgentAdapter } from './adapter.js';
import { builtInAdapters } from './built-in-adapters.js';
import { type CommandAgentDefinitionInput, createCommandAdapter } from './command.js';

export class AgentDefinitionError extends Error {
  override name = 'AgentDefinitionError';
}

export interface AdapterRegistryConfig {
  /** Operator-defined agents by name (ORCHESTRATOR_CONFIG `agents`). */
  agents?: Readonly<Record<string, Omit<CommandAgentDefinitionInput, 'name'>>> | undefined;
}

/**
 * Looks agents up by name: the operator's definitions first (so an operator can replace a
 * built-in's argv), then the built-ins. Every definition is validated here, at startup, so a bad
 * one fails loudly before any session needs it.
 */
export function createAdapterRegistry(
  config: AdapterRegistryConfig = {},
): (name: string) => AgentAdapter | undefined {
  const adapters = new Map<string, AgentAdapter>(Object.entries(builtInAdapters));
  for (const [name, definition] of Object.entries(config.agents ?? {})) {
    try {
      adapters.set(name, createCommandAdapter({ ...definition, name }));
    } catch (error) {
      const detail =
        error instanceof z.ZodError
          ? error.issues.map((i) => `${i.path.join('.') || name}: ${i.message}`).join('; ')
          : (error as Error).message;
      throw new AgentDefinitionError(`agent "${name}": ${detail}`, { cause: error });
    }
  }
  return (name) => adapters.get(name);
}
