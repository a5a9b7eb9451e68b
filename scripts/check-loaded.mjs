#!/usr/bin/env node
// `npm run check:loaded`: the whole check (`npm run check`) with CPU hogs running beside it, as on
// a busy machine. HOGS sets how many (default 2, one per core of the 2-core CI machine). The hogs
// run at the same priority as the suite and stop when it ends, however it ends.
import { spawn } from 'node:child_process';

const count = Number(process.env.HOGS ?? 2);
if (!Number.isInteger(count) || count < 0) {
  console.error(`check:loaded: HOGS must be a whole number, not ${process.env.HOGS}`);
  process.exit(2);
}

const hogs = Array.from({ length: count }, () =>
  spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }),
);
const stopHogs = () => {
  for (const hog of hogs) hog.kill('SIGKILL');
};
process.on('exit', stopHogs);
console.log(`check:loaded: ${count} CPU hogs running (pids ${hogs.map((h) => h.pid).join(', ')})`);

const started = Date.now();
const check = spawn('npm', ['run', 'check'], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => check.kill(signal));
}
check.on('exit', (code, signal) => {
  const seconds = Math.round((Date.now() - started) / 1000);
  const outcome = code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`;
  console.log(`check:loaded: the check ${outcome} in ${seconds} s beside ${count} CPU hogs`);
  process.exit(code ?? 1);
});
