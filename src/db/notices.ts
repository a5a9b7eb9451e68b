import type { Db } from './client.js';
import { notices } from './schema.js';

/** True the first time a key is given, false ever after: for things said once. */
export async function firstNotice(db: Db, key: string): Promise<boolean> {
  const fresh = await db
    .insert(notices)
    .values({ key })
    .onConflictDoNothing()
    .returning({ key: notices.key });
  return fresh.length > 0;
}
