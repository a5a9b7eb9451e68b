import path from 'node:path';
import type { Overlays } from './overlays.js';

/** Written once an overlay worktree is complete; a spawn that finds none starts it over. */
export const overlayDone = (overlays: Overlays, sessionId: string) =>
  path.join(overlays.layersOf(sessionId), 'done');
