import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer } from '../mcp/mcp-server.js';
import { createApiClient } from './api-client.js';
import { loadApiSettings } from './api-settings.js';
import { parseCommandArgs } from './args.js';
import { EXIT, usageError } from './cli-error.js';
import type { Io } from './io.js';
import { USAGE } from './usage.js';

/**
 * `agent-orchestrator mcp`: an MCP server on stdin/stdout until the client closes stdin. Nothing
 * but JSON-RPC is written to stdout; problems go to stderr.
 */
export async function mcpCommand(args: string[], io: Io, version: string): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {}, USAGE.mcp);
  if (values.help) {
    io.out(USAGE.mcp);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw usageError(`Unexpected argument "${positionals[0]}".`, USAGE.mcp);
  const server = createMcpServer(createApiClient(loadApiSettings(io.env)), version);
  const transport = new StdioServerTransport();
  transport.onerror = (error) => io.err(`mcp: ${error.message}`);
  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  await server.connect(transport);
  await closed;
  await server.close();
  return EXIT.ok;
}
