import { stdSerializers } from 'pino';

/** The longest message, query or other text field of an error in a log line. */
const MAX_TEXT = 2_000;
/** The longest stack (causes appended). */
const MAX_STACK = 8_000;
/** Where database errors keep the values of a statement (drizzle, PGlite; postgres.js in debug). */
const PARAMETER_FIELDS = ['params', 'parameters'];

type Serialized = Record<string, unknown>;

/**
 * Pino's error serializer, made safe for database errors and bounded: a query's parameters are
 * never logged (drizzle writes them into its message too: "Failed query: …\nparams: …", which
 * was once a 9.2 MB line holding every row of a batch), and every text field is clipped. The
 * message, the code and the query text stay.
 */
export function serializeError(error: unknown): unknown {
  const serialized = stdSerializers.err(error as Error) as unknown;
  if (!serialized || typeof serialized !== 'object' || serialized === error) return serialized;
  const out = serialized as Serialized;
  const chain = chainOf(error);
  // The database's error code (23505, 22P02, …) is on the cause drizzle wraps.
  const code = chain.map((e) => (e as { code?: unknown }).code).find((c) => typeof c === 'string');
  if (out.code === undefined && code !== undefined) out.code = code;
  for (const cause of chain) {
    if (!PARAMETER_FIELDS.some((field) => field in cause)) continue;
    const message = cause.message;
    const cut = message.indexOf('\nparams:');
    if (cut === -1) continue;
    const clean = message.slice(0, cut);
    for (const key of ['message', 'stack'] as const) {
      if (typeof out[key] === 'string') out[key] = (out[key] as string).split(message).join(clean);
    }
  }
  return clipFields(out);
}

/**
 * An error as text to store (a job's last error): its stack, or its message, with a database
 * query's parameters taken out as in the log, clipped to `max` characters.
 */
export function errorText(error: unknown, max = 4_000): string {
  if (!(error instanceof Error)) return clipEnd(String(error), max);
  const out = serializeError(error) as Serialized;
  const text = typeof out.stack === 'string' && out.stack ? out.stack : String(out.message ?? '');
  return clipEnd(text, max);
}

function clipEnd(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n[truncated]` : text;
}

function clipFields(out: Serialized): Serialized {
  for (const field of PARAMETER_FIELDS) delete out[field];
  for (const [key, value] of Object.entries(out)) {
    if (typeof value === 'string') out[key] = clip(value, key === 'stack' ? MAX_STACK : MAX_TEXT);
    else if (value && typeof value === 'object' && !Array.isArray(value) && 'message' in value)
      out[key] = clipFields({ ...(value as Serialized) });
  }
  return out;
}

/** The error and its causes, at most ten deep (a cycle ends it too). */
function chainOf(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = error; e instanceof Error && chain.length < 10 && !chain.includes(e); e = e.cause)
    chain.push(e);
  return chain;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… [${text.length - max} characters cut]` : text;
}
