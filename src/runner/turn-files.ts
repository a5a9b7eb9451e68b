import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Session, Turn } from '../db/schema.js';
import { configOf, contextOf } from '../sessions/session-context.js';
import { messagesOfTurn } from '../sessions/turn-store.js';
import { agentProfileOf } from './agent-profile.js';
import { assertSessionId } from './names.js';
import { buildMessage, buildPrompt } from './prompt.js';
import type { RunnerDeps } from './runner-deps.js';

/** A session's folder of prompts, turn logs and exit files. */
export function stateDirOf(stateRoot: string, sessionId: string): string {
  return path.join(stateRoot, assertSessionId(sessionId));
}

/** The file a turn's agent reads: the first turn's prompt, or a later turn's messages. */
export function turnInputFile(stateDir: string, turn: Pick<Turn, 'number'>): string {
  return path.join(stateDir, turn.number === 1 ? 'prompt.md' : `message-${turn.number}.md`);
}

/**
 * Writes the turn's input file, after the transaction that chose the turn: from the issue as it
 * was at trigger time, or from the messages the turn delivers. Written again when missing (a
 * crash between choosing the turn and writing it), so it never depends on having been written.
 */
export async function writeTurnInput(
  deps: Pick<RunnerDeps, 'db' | 'operatorConfig' | 'stateRoot'>,
  session: Session,
  turn: Turn,
): Promise<string> {
  const dir = stateDirOf(deps.stateRoot, session.id);
  const file = turnInputFile(dir, turn);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  if (turn.number === 1) {
    const config = configOf(session);
    writeFileSync(
      file,
      buildPrompt({
        issue: contextOf(session).issue ?? {
          repository: session.repositoryFullName,
          number: session.issueNumber,
          title: '',
          body: '',
          comments: [],
        },
        branch: session.branch!,
        baseBranch: session.baseBranch!,
        instructions: [
          agentProfileOf(session, config, deps.operatorConfig).profile.instructions ?? '',
        ],
      }),
    );
  } else {
    writeFileSync(file, buildMessage(await messagesOfTurn(deps.db, turn.id)));
  }
  return file;
}
