import { createHash } from 'node:crypto';

/** The dashboard's style sheet, served at STYLE_PATH (the policy allows no inline style). */
export const STYLE = `
:root{--bg:#f6f8fa;--panel:#fff;--text:#1f2328;--muted:#59636e;--line:#d1d9e0;--accent:#0969da;
--head:#1f2328;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif;
font-size:14px;color:var(--text);background:var(--bg)}
*{box-sizing:border-box}body{margin:0}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{background:var(--head);color:#fff;display:flex;align-items:center;gap:16px;padding:10px 24px}
header.top .brand{color:#fff;font-weight:600;font-size:15px;display:flex;align-items:center;gap:8px}
header.top .brand::before{content:"";width:18px;height:18px;border-radius:5px;
background:conic-gradient(#2da44e,#0969da,#8250df,#2da44e)}
header.top nav{display:flex;gap:14px;margin-left:8px}header.top nav a{color:#d1d9e0}
header.top .spacer{flex:1}
#live{font-size:12px;color:#d1d9e0;display:flex;align-items:center;gap:6px}
#live::before{content:"";width:8px;height:8px;border-radius:50%;background:#8c959f}
#live[data-state=on]::before{background:#2da44e;box-shadow:0 0 0 3px rgba(45,164,78,.25)}
#live[data-state=on] .off,#live:not([data-state=on]) .on{display:none}
header.top form{margin:0}header.top button{background:none;border:1px solid #59636e;color:#d1d9e0;
border-radius:6px;padding:3px 10px;font:inherit;font-size:12px;cursor:pointer}
main{max-width:1280px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:20px;font-weight:600;margin:0 0 4px}h2{font-size:15px;font-weight:600;margin:0 0 10px}
.muted{color:var(--muted)}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px}
.flash{padding:10px 14px;border-radius:6px;margin:0 0 14px;border:1px solid}
.flash.ok{background:#dafbe1;border-color:#aceebb}.flash.error{background:#ffebe9;border-color:#ffcecb}
.bar{display:flex;align-items:flex-end;gap:12px;margin:0 0 14px;flex-wrap:wrap}
.bar .title{flex:1;min-width:200px}
form.filters{display:flex;gap:8px;align-items:flex-end;flex-wrap:wrap;margin:0}
label{display:flex;flex-direction:column;gap:4px;font-size:12px;color:var(--muted);font-weight:500}
select,input,textarea{font:inherit;font-size:13px;color:var(--text);background:#fff;border:1px solid var(--line);
border-radius:6px;padding:5px 8px}
textarea{width:100%;min-height:84px;resize:vertical}
button,.button{font:inherit;font-size:13px;font-weight:500;border-radius:6px;padding:5px 14px;cursor:pointer;
border:1px solid var(--line);background:#f6f8fa;color:var(--text)}
button.primary{background:#1f883d;border-color:#1a7f37;color:#fff}
button.danger{color:#cf222e}button.danger:hover{background:#cf222e;color:#fff;border-color:#cf222e}
table{width:100%;border-collapse:collapse}
th{font-size:12px;font-weight:600;color:var(--muted);text-align:left;padding:9px 12px;background:#f6f8fa;
border-bottom:1px solid var(--line);white-space:nowrap}
td{padding:9px 12px;border-bottom:1px solid #eaeef2;vertical-align:top}
tbody tr:last-child td{border-bottom:0}tbody tr:hover{background:#f6f8fa}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.repo{color:var(--muted);white-space:nowrap}
td .issue-title{display:block;color:var(--text);font-weight:600;max-width:380px;overflow:hidden;
text-overflow:ellipsis;white-space:nowrap}
td a.issue-title:hover{color:var(--accent)}
td .sub{display:block;font-size:12px;color:var(--muted);margin-top:2px}
td.last{max-width:280px;color:var(--muted);white-space:nowrap}
td.last b{color:var(--text);font-weight:500}
td.last .sub{overflow:hidden;text-overflow:ellipsis}
tr.fresh{animation:fresh 2.5s ease-out}@keyframes fresh{from{background:#fff8c5}to{background:transparent}}
.badge{display:inline-flex;align-items:center;gap:5px;font-size:12px;font-weight:500;border-radius:999px;
padding:1px 9px;border:1px solid transparent;white-space:nowrap}
.badge::before{content:"";width:7px;height:7px;border-radius:50%;background:currentColor}
.s-queued{background:#eaeef2;color:#59636e}.s-spawning{background:#ddf4ff;color:#0969da}
.s-working{background:#ddf4ff;color:#0969da}.s-working::before{animation:pulse 1.2s infinite}
.s-waiting{background:#fff8c5;color:#9a6700}.s-needs_human{background:#ffebe9;color:#cf222e}
.s-merged{background:#fbefff;color:#8250df}.s-closed,.s-stopped{background:#eaeef2;color:#59636e}
.s-failed{background:#ffebe9;color:#a40e26}
@keyframes pulse{50%{opacity:.25}}
.pager{display:flex;gap:10px;justify-content:flex-end;padding:10px 0}
.empty{padding:28px;text-align:center;color:var(--muted)}
.layout{display:grid;grid-template-columns:minmax(280px,360px) 1fr;gap:16px;align-items:start}
@media (max-width:900px){.layout{grid-template-columns:1fr}}
.side>*{margin-bottom:16px}.side .panel,.main .panel{padding:14px 16px}
.main>*{margin-bottom:16px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 14px;margin:12px 0 0}dt{color:var(--muted)}dd{margin:0;min-width:0;overflow-wrap:anywhere}
#timeline{list-style:none;margin:0;padding:0;max-height:460px;overflow:auto}
#timeline li{display:grid;grid-template-columns:68px 150px 1fr;gap:10px;padding:5px 0;border-bottom:1px solid #eaeef2}
#timeline li:last-child{border-bottom:0}
#timeline .kind{font-weight:500}#timeline .k-agent{color:#8250df}#timeline .k-fail{color:#cf222e}
#timeline .what{min-width:0;overflow-wrap:anywhere}
#output{background:#0d1117;color:#e6edf3;border-radius:6px;padding:10px 12px;margin:0;max-height:420px;
overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;line-height:1.45;min-height:60px}
#output .turn{color:#7d8590}
ul.messages{list-style:none;margin:0;padding:0}ul.messages li{padding:8px 0;border-bottom:1px solid #eaeef2}
ul.messages li:last-child{border-bottom:0}ul.messages .body{white-space:pre-wrap;overflow-wrap:anywhere;margin-top:4px}
#session-budget>span{display:block}#session-budget .sub{font-size:12px}
#spend{margin-top:8px}#spend h2{margin:0 0 4px}
.spend-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:16px}
.spend-card{padding:14px 16px}.spend-card h3{font-size:14px;font-weight:600;margin:0}
.spend-card dl{margin:8px 0 10px}.spend-card dd{display:flex;gap:10px;align-items:center;justify-content:space-between;flex-wrap:wrap}
.spend-card meter{width:120px;height:10px}.spend-card .sub{font-size:12px;color:var(--muted);margin:6px 0 0}
svg.spend-chart{display:block;width:100%;height:auto}
.spend-chart .bar{fill:#0969da}.spend-chart .today .bar{fill:#1f883d}.spend-chart .bar.over{fill:#cf222e}
.spend-chart .grid{stroke:#eaeef2}.spend-chart .baseline{stroke:var(--line)}
.spend-chart .limit{stroke:#cf222e;stroke-dasharray:4 3}
.spend-chart .axis{font-size:10px;fill:var(--muted)}.spend-chart .day-label{text-anchor:middle}
.spend-chart .limit-label{text-anchor:end;fill:#cf222e}.spend-chart .today .day-label{fill:var(--text);font-weight:600}
.login{max-width:420px;margin:10vh auto}.login .panel{padding:22px}
.login input{width:100%;margin:6px 0 14px}
`;

/**
 * The dashboard's script, served at SCRIPT_PATH (the policy allows no inline script).
 * Progressive enhancement: with JavaScript the page follows its server-sent event stream
 * (named in data-live) and applies what it is told; without it, the page is complete as served.
 * Fragments come rendered (and escaped) by the server; output lines are set as text.
 */
export const SCRIPT = `
(() => {
  const root = document.querySelector('[data-live]');
  const indicator = document.getElementById('live');
  if (!root || !window.EventSource) return;
  const source = new EventSource(root.dataset.live);
  source.onopen = () => indicator && (indicator.dataset.state = 'on');
  source.onerror = () => indicator && (indicator.dataset.state = 'off');
  window.addEventListener('pagehide', () => source.close());
  const fragment = (html) => {
    const t = document.createElement('template');
    t.innerHTML = html;
    return t.content.firstElementChild;
  };
  const on = (name, f) => source.addEventListener(name, (e) => f(JSON.parse(e.data)));
  const stickToBottom = (box, change) => {
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    change();
    if (atBottom) box.scrollTop = box.scrollHeight;
  };

  on('session-row', (d) => {
    const body = document.getElementById('sessions-body');
    const old = document.getElementById('row-' + d.id);
    if (!d.match) return old && old.remove();
    const row = fragment(d.html);
    if (old) return old.replaceWith(row);
    if (body.dataset.prepend !== 'true') return;
    const empty = document.getElementById('no-sessions');
    if (empty) empty.remove();
    const later = [...body.rows].find((r) => Number(r.dataset.created) < d.created ||
      (Number(r.dataset.created) === d.created && r.id < 'row-' + d.id));
    body.insertBefore(row, later || null);
    row.classList.add('fresh');
  });

  on('session', (d) => {
    document.getElementById('summary').replaceWith(fragment(d.html));
    const actions = document.getElementById('actions');
    if (actions) actions.hidden = d.ended;
  });
  on('event', (d) => {
    const list = document.getElementById('timeline');
    if (document.getElementById('event-' + d.id)) return;
    const empty = document.getElementById('no-events');
    if (empty) empty.remove();
    stickToBottom(list, () => list.append(fragment(d.html)));
  });
  on('messages', (d) => document.getElementById('messages').replaceWith(fragment(d.html)));
  const output = document.getElementById('output');
  const note = document.getElementById('output-note');
  // Newest at the bottom: start there.
  for (const box of [document.getElementById('timeline'), output]) {
    if (box) box.scrollTop = box.scrollHeight;
  }
  on('output-turn', (d) => {
    if (note) note.textContent = d.note;
    if (!output || !d.here) return;
    const line = document.createElement('span');
    line.className = 'turn';
    line.textContent = '── turn ' + d.turn + ' ──\\n';
    stickToBottom(output, () => output.append(line));
  });
  on('output', (d) => {
    if (!output) return;
    stickToBottom(output, () => {
      output.append(document.createTextNode(d.lines.join('\\n') + '\\n'));
      while (output.childNodes.length > 2000) output.firstChild.remove();
    });
  });

  const tick = () => {
    const now = Date.now();
    for (const t of document.querySelectorAll('time[data-ago]')) {
      const s = Math.max(0, Math.round((now - Date.parse(t.dateTime)) / 1000));
      t.textContent = s < 60 ? s + 's' : s < 3600 ? Math.floor(s / 60) + 'm' :
        s < 86400 ? Math.floor(s / 3600) + 'h' : Math.floor(s / 86400) + 'd';
    }
  };
  setInterval(tick, 10000);
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
  }
  for (const select of document.querySelectorAll('form.filters select')) {
    select.addEventListener('change', () => select.form.submit());
  }
})();
`;

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
/** Named by their contents, so a browser may keep them for good. */
export const STYLE_PATH = `/assets/dashboard-${digest(STYLE)}.css`;
export const SCRIPT_PATH = `/assets/dashboard-${digest(SCRIPT)}.js`;
