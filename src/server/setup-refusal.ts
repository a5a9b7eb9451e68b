import type { ServerResponse } from 'node:http';
import type { SetupCheck } from './setup-ticket.js';

/** The query parameter (and form field) that carries setup mode's one-time code. */
export const SETUP_CODE_PARAM = 'setup_code';

type Refusal = Exclude<SetupCheck, 'ok'> | 'foreign-state';

const messages: Record<Refusal, { status: number; title: string; text: string; ask: boolean }> = {
  missing: {
    status: 403,
    title: 'This page needs the one-time setup code',
    text: 'Setup mode writes the app\'s credentials to .env, so its pages take the one-time code the server printed in its log at startup ("Setup mode: open …/probot?setup_code=…"). Open that link, or paste the code here. Nothing was written.',
    ask: true,
  },
  wrong: {
    status: 403,
    title: 'That is not the setup code',
    text: 'The code does not match the one the server printed in its log at startup. Copy it again from the log. Nothing was written.',
    ask: true,
  },
  used: {
    status: 403,
    title: 'The setup code has been used',
    text: "This run's one-time code already wrote an app's credentials to .env. Restart the server: it leaves setup mode once APP_ID and the key are set (still in setup mode, it prints a new code). Nothing was written.",
    ask: false,
  },
  busy: {
    status: 409,
    title: 'A registration is being written',
    text: 'Another request with the setup code is writing the credentials right now. Nothing was written by this one.',
    ask: false,
  },
  'foreign-state': {
    status: 403,
    title: 'This registration did not start here',
    text: "GitHub's answer does not carry the state this server sent with its manifest, so the credentials are not written. Open the setup link printed in the server's log and register from that page. Nothing was written.",
    ask: false,
  },
};

/** Answers a setup request that may not go on: a short page, with a form for the code. */
export function refuseSetup(res: ServerResponse, refusal: Refusal, path: string): true {
  const { status, title, text, ask } = messages[refusal];
  const form = ask
    ? `<form method="get" action="${path}">
  <label for="code">One-time setup code</label>
  <input class="form-control" id="code" name="${SETUP_CODE_PARAM}" required autocomplete="off" autofocus>
  <button class="btn" type="submit">Continue</button>
</form>`
    : '';
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} · Agent Orchestrator setup</title>
<link rel="stylesheet" href="/probot/static/primer.css"></head>
<body class="p-6">
<h1>${title}</h1>
<p>${text}</p>
${form}
</body>
</html>
`);
  return true;
}
