import { HTTPException } from 'hono/http-exception';
import type { z } from 'zod';

/** The value parsed by schema, or a 400 naming the first bad field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new HTTPException(400, { message: `${issue.path.join('.') || 'body'}: ${issue.message}` });
}

/** The request's JSON body; null when empty; a 400 when it is not JSON. */
export async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: 'body is not valid JSON' });
  }
}
