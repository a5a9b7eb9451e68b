import type { Logger } from 'pino';
import type { OperatorConfig } from '../operator-config.js';
import type { SessionService } from '../sessions/session-service.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { Octokit } from './octokit.js';
import type { Roles } from './roles.js';

/** What the GitHub handlers work with; each is passed in, so a test can hand in its own. */
export interface LifecycleDeps {
  /** Every change of a session goes through it. */
  sessions: SessionService;
  /** Which session a webhook is about. */
  store: SessionStore;
  /** An installation's Octokit; without an id, the app's own (its JWT), as Probot's auth(). */
  octokitFor(installationId?: number): Promise<Octokit>;
  operatorConfig: OperatorConfig;
  /** Who may drive agents: collaborators' roles, remembered for a short while. */
  roles: Roles;
  log: Logger;
  /** The dashboard's address, for links in status comments. */
  publicUrl?: string | undefined;
  /** Whether an agent of this name is known (built in, or defined by the operator). */
  isAgent(name: string): boolean;
  /** True the first time a key is given: for things said once (an invalid config file). */
  firstNotice(key: string): Promise<boolean>;
  /** Writes what became of an operator's start on its record, for the API to answer from. */
  recordStartOutcome(startId: string, outcome: string, sessionId: string | null): Promise<void>;
}
