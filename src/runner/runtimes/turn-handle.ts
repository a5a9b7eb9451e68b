import { z } from 'zod';
import type { TurnHandle } from './runtime.js';

const turnHandleSchema = z.object({
  runtime: z.enum(['process', 'tmux']),
  pid: z.number().int().positive(),
  tmuxTarget: z.string().optional(),
  startedAt: z.number(),
});

/** The runtime's handle as the turn's row keeps it; null when there is none or it is not one. */
export function turnHandleOf(stored: unknown): TurnHandle | null {
  const parsed = turnHandleSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}
