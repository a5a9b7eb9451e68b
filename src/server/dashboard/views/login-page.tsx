import { Layout } from './layout.js';

/** Paste the API token to log in; the link printed at startup fills it in. */
export function LoginPage({ next, error }: { next: string; error?: string | undefined }) {
  return (
    <Layout title="Log in">
      <div class="login">
        <form class="panel" method="post" action="/login">
          <h1>Log in</h1>
          <p class="muted">
            Paste the API token (<span class="mono">API_TOKEN</span>, or the one printed at
            startup).
          </p>
          {error && <p class="flash error">{error}</p>}
          <input type="hidden" name="next" value={next} />
          <label>
            API token
            <input
              type="password"
              name="token"
              required
              autocomplete="current-password"
              autofocus
            />
          </label>
          <button type="submit" class="primary">
            Log in
          </button>
        </form>
      </div>
    </Layout>
  );
}
