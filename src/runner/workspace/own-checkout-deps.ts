import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { Overlays } from './overlays.js';
import type { WorkspaceDeps } from './workspace-deps.js';

/**
 * A session's own checkout (the layout with a sandbox): `sessions/<id>` is a repository of its
 * own, whose `.git` the agent may write as it likes. It borrows the mirror's objects read-only
 * (`objects/info/alternates`), so it costs no more than a worktree, but shares nothing the
 * runner reads as configuration. The runner never runs git in it outside the sandbox: it takes
 * the agent's commits into the mirror with a fetch whose upload-pack runs in the sandbox too.
 */
export interface OwnCheckoutDeps extends WorkspaceDeps {
  sandbox: Sandbox;
  /** Runner-owned records, out of every sandbox's sight: which repository a checkout belongs to. */
  recordsDir: string;
  /** Shared checkouts and sessions' layers; a checkout made on layers keeps them for its life. */
  overlays: Overlays;
  /** Whether new checkouts are made on layers (own-layers.ts) or with every file of their own. */
  newOnLayers: boolean;
}

/** Where the mirror keeps what it last took from a session's checkout. */
export const collectedRef = (sessionId: string) => `refs/orchestrator/sessions/${sessionId}`;

const recordOf = (deps: OwnCheckoutDeps, sessionId: string) =>
  path.join(deps.recordsDir, `${sessionId}.repo`);

export async function writeRepositoryOf(
  deps: OwnCheckoutDeps,
  sessionId: string,
  repositoryId: number,
): Promise<void> {
  await writeFile(recordOf(deps, sessionId), `${repositoryId}\n`);
}

/** The repository a session's checkout was made for, from the runner's record; null when none. */
export async function repositoryOf(
  deps: OwnCheckoutDeps,
  sessionId: string,
): Promise<number | null> {
  const text = await readFile(recordOf(deps, sessionId), 'utf8').catch(() => '');
  const id = Number(text.trim());
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
