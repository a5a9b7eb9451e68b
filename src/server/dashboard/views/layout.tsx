import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { SCRIPT_PATH, STYLE_PATH } from './assets.js';

export interface LayoutProps {
  title: string;
  /** The page's server-sent event stream, followed by the dashboard's script. */
  live?: string | undefined;
  /** Shown when logged in: the log-out form needs it. */
  csrfToken?: string | undefined;
  children?: Child;
}

/**
 * Every dashboard page: header, style sheet, and the live script when the page has a stream.
 * Nothing inline: the Content-Security-Policy allows this site's files only.
 */
export function Layout({ title, live, csrfToken, children }: LayoutProps) {
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${title} · Agent Orchestrator`}</title>
          <link rel="stylesheet" href={STYLE_PATH} />
        </head>
        <body data-live={live}>
          <header class="top">
            <a class="brand" href="/">
              Agent Orchestrator
            </a>
            {csrfToken && (
              <nav>
                <a href="/">Sessions</a>
              </nav>
            )}
            <span class="spacer" />
            {live && (
              <span id="live" data-state="off">
                <span class="on">live</span>
                <span class="off">not live</span>
              </span>
            )}
            {csrfToken && (
              <form method="post" action="/logout">
                <input type="hidden" name="_csrf" value={csrfToken} />
                <button type="submit">Log out</button>
              </form>
            )}
          </header>
          <main>{children}</main>
          {live && <script src={SCRIPT_PATH} />}
        </body>
      </html>
    </>
  );
}

/** A page that only says something (errors, the dashboard being off). */
export function MessagePage({
  title,
  message,
  csrfToken,
}: {
  title: string;
  message: string;
  csrfToken?: string | undefined;
}) {
  return (
    <Layout title={title} csrfToken={csrfToken}>
      <div class="login">
        <div class="panel">
          <h1>{title}</h1>
          <p>{message}</p>
          <p>
            <a href="/">Back to the sessions</a>
          </p>
        </div>
      </div>
    </Layout>
  );
}
