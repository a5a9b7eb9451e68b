import { Hono } from 'hono';
import { SCRIPT, SCRIPT_PATH, STYLE, STYLE_PATH } from './views/assets.js';

const FOREVER = 'public, max-age=31536000, immutable';

/** The dashboard's style sheet and script, open to all (the login page needs them too). */
export function assetRoutes(): Hono {
  return new Hono()
    .get(STYLE_PATH, (c) =>
      c.body(STYLE, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': FOREVER }),
    )
    .get(SCRIPT_PATH, (c) =>
      c.body(SCRIPT, 200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': FOREVER,
      }),
    );
}
