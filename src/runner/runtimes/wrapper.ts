import { CAP_LOG_FUNCTION, SPOOL_SUFFIX } from './log-cap.js';
import type { TurnSpec } from './runtime.js';

/**
 * The bash program every turn runs in, as
 * `bash -c WRAPPER_SCRIPT wrapper <exitFile> <logFile> <stdinFile or ''> [--cgroup <procs>]... [--tee] -- <argv...>`.
 * The agent's argv arrives as positional parameters and is never part of a shell string; with
 * `--argv-file <file>` instead of `-- <argv...>` it is read from a file of NUL-terminated
 * arguments (tmux refuses commands longer than 16 KB).
 *
 * Three processes of one group: the wrapper (the group leader), a recorder subshell and the
 * agent. The recorder ignores TERM, INT and HUP so that its `wait` is never interrupted (bash
 * loses a child's status when a trap interrupts `wait` and the child exits meanwhile); it feeds
 * the agent its stdin, appends its stdout and stderr to the log's spool (a file, always: with
 * --tee, for tmux, a `tail -f` of it shows the output in the terminal, and nothing the log keeps
 * waits on that display), which the log's writer follows into the log, bounded
 * (log-cap.ts; without perl, straight to the log, unbounded), and once the log is complete writes
 * the agent's exit status, 128+n for signal n, to a temporary file renamed onto the exit file. The agent gets default signal dispositions back.
 * The wrapper outlives INT (a Ctrl-C in tmux) and HUP (a closed window), and answers TERM by
 * sending TERM once to the whole group, so a TERM sent to it alone still stops the agent and
 * its children, and the status is still recorded.
 */
export const WRAPPER_SCRIPT = `set -u
${CAP_LOG_FUNCTION}
exit_file=$1 log_file=$2 stdin_file=\${3:-/dev/null}
shift 3
cgroups=()
while [ "\${1-}" = --cgroup ]; do cgroups+=("\${2-}"); shift 2; done
tee=0
if [ "\${1-}" = --tee ]; then tee=1; shift; fi
if [ "\${1-}" = --argv-file ]; then
  mapfile -d '' -t argv <"\${2-}" || exit 2
  set -- -- "\${argv[@]}"
fi
if [ "\${1-}" != -- ]; then echo 'wrapper: expected -- before the command' >&2; exit 2; fi
shift
trap '' INT HUP
trap 'trap "" TERM; kill -s TERM 0' TERM
(
  trap '' TERM INT HUP
  out=$log_file
  if command -v perl >/dev/null; then
    out=$log_file${SPOOL_SUFFIX}
    : >"$out"
    exec 4> >(cap_log "$out" "$log_file" 3>&-)
    log_pid=$!
  fi
  (
    trap - TERM INT QUIT HUP
    for cgroup in "\${cgroups[@]}"; do
      printf '%s\\n' "$BASHPID" >"$cgroup" || { echo "wrapper: cannot join $cgroup" >&2; exit 125; }
    done
    exec "$@"
  ) >>"$out" 2>&1 <"$stdin_file" 4>&- &
  agent_pid=$!
  if [ "$tee" = 1 ]; then
    ( exec tail -c +1 -s 0.2 -f --pid="$agent_pid" -- "$out" 4>&- 2>/dev/null ) &
    show_pid=$!
  fi
  wait "$agent_pid"
  status=$?
  # The display ends by itself once it has shown the agent's last words.
  if [ "$tee" = 1 ]; then wait "$show_pid"; fi
  if [ "$out" != "$log_file" ]; then
    exec 4>&-
    wait "$log_pid" || cat -- "$out" >>"$log_file"
    rm -f -- "$out"
  fi
  printf '%s\\n' "$status" >"$exit_file.tmp.$$" && mv -f -- "$exit_file.tmp.$$" "$exit_file"
) &
recorder=$!
while kill -0 "$recorder" 2>/dev/null; do wait "$recorder"; done
`;

/** The arguments after `bash` that run a turn's argv inside the wrapper. */
export function wrapperArgs(
  spec: TurnSpec,
  options: { tee?: boolean; argvFile?: string } = {},
): string[] {
  if (spec.argv.length === 0) throw new Error('a turn needs a program to run (argv is empty)');
  return [
    '-c',
    WRAPPER_SCRIPT,
    'wrapper',
    spec.exitFile,
    spec.logFile,
    spec.stdinFile ?? '',
    // The agent writes itself into the turn's cgroups (turn-limits.ts) before it starts.
    ...(spec.cgroups ?? []).flatMap((procs) => ['--cgroup', procs]),
    ...(options.tee ? ['--tee'] : []),
    ...(options.argvFile ? ['--argv-file', options.argvFile] : ['--', ...spec.argv]),
  ];
}

/** The contents of an argv file: each argument followed by a NUL. */
export function argvFileContents(argv: readonly string[]): string {
  if (argv.some((arg) => arg.includes('\0'))) throw new Error('an argument holds a NUL byte');
  return argv.map((arg) => `${arg}\0`).join('');
}
