/** What a report says in place of a part it could not fetch: the HTTP status, else the message. */
export function unavailable(what: string, error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  const reason =
    typeof status === 'number' ? status : error instanceof Error ? error.message : String(error);
  return `(${what} unavailable: ${reason})`;
}
