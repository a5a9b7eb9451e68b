import { explain } from './explain.js';
import { repoLabel } from './mirrors.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import type { FetchInput } from './workspace-types.js';

/** Updates `origin/*` in the repository's mirror (creating the mirror on first use). */
export function fetchMirror({ mirrors, mutex }: WorkspaceDeps, input: FetchInput): Promise<void> {
  const { repo } = input;
  return mutex.run(repo.id, () =>
    explain({ repo: repoLabel(repo) }, `could not fetch ${repoLabel(repo)}`, async () => {
      await mirrors.update(repo, input.auth);
    }),
  );
}
