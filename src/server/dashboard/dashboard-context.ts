import type { Db } from '../../db/client.js';
import type { OperatorLimits } from '../../limits-config.js';
import type { SessionActions } from '../session-actions.js';
import type { DashboardAuth } from './dashboard-auth.js';
import type { StreamDeps } from './session-list-stream.js';

/** What every part of the dashboard works with. */
export interface DashboardContext {
  db: Db;
  auth: DashboardAuth;
  actions: SessionActions;
  githubUrl: string;
  now: () => Date;
  /** The operator's limits, which each repository's and session's budgets start from. */
  limits: OperatorLimits;
  streams: StreamDeps;
}
