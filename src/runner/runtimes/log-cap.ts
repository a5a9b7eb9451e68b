import { stat } from 'node:fs/promises';

/**
 * A turn's log on disk is bounded: it keeps the first LOG_HEAD_BYTES of the agent's output as they
 * come, and of the rest the last LOG_TAIL_BYTES, added when the agent ends after a line saying how
 * many bytes were cut. An agent printing forever leaves a log of about 5 MB, and the result an
 * agent prints last is kept. The tail waits in the writer's memory: a turn whose processes are
 * killed (SIGKILL) keeps only its head.
 *
 * The agent still writes to a regular file, its spool beside the log (`<log>.spool`), never to a
 * pipe: a Node.js CLI that calls process.exit() with writes to a pipe still queued loses them,
 * and its last words are the result. The writer follows the spool into the log and punches the
 * bytes it has read out of the spool (`fallocate --punch-hole`), so the spool takes no disk
 * space either, where the file system can punch holes (ext4, xfs, btrfs, tmpfs).
 */
export const LOG_HEAD_BYTES = 1024 * 1024;
export const LOG_TAIL_BYTES = 4 * 1024 * 1024;

/** The file the agent's output goes to before the log takes what it keeps of it: `<log>.spool`. */
export const SPOOL_SUFFIX = '.spool';

/**
 * The writer, in perl (part of every Debian, and of most other systems): `cap_log <spool> <log>`.
 * It reads the spool as it grows (a 50 ms poll at its end), writes the head to the log as it comes
 * and keeps the tail in a buffer trimmed at twice its size (linear); past the head it touches the
 * log once a second, so that the stall watchdog still sees output. Its stdin is a pipe the wrapper
 * closes once the agent has exited: then it reads the spool to its end and writes the tail. If it
 * fails, the wrapper appends the spool to the log as it is. No single quote: it sits in a
 * single-quoted shell word.
 */
const CAP_LOG_PERL = `
use strict;
my ($spool, $log) = @ARGV;
my ($head_max, $tail_max, $punch_every) = (${LOG_HEAD_BYTES}, ${LOG_TAIL_BYTES}, 8 << 20);
open(my $in, "<", $spool) or die "cap_log: $spool: $!\\n";
open(my $out, ">>", $log) or die "cap_log: $log: $!\\n";
binmode $in; binmode $out;
my ($head, $past, $tail, $read, $punched, $touched, $draining) = (0, 0, "", 0, 0, 0, 0);
sub put { my $data = shift; while (length $data) { my $n = syswrite($out, $data); die "cap_log: $!\\n" unless defined $n; substr($data, 0, $n, ""); } }
sub punch {
  my $pid = fork() // return 0;
  if (!$pid) { open(STDERR, ">", "/dev/null"); exec("fallocate", "--punch-hole", "--offset", "0", "--length", $read, $spool); exit 127; }
  waitpid($pid, 0);
  return $? == 0;
}
while (1) {
  my $n = sysread($in, my $buf, 1 << 20);
  if (!defined $n) { next if $!{EINTR}; die "cap_log: $spool: $!\\n"; }
  if ($n == 0) {
    last if $draining;
    my $wake = "";
    vec($wake, fileno(STDIN), 1) = 1;
    $draining = 1 if select($wake, undef, undef, 0.05) > 0;
    next;
  }
  $read += $n;
  if ($head < $head_max) {
    my $take = $head_max - $head < $n ? $head_max - $head : $n;
    put(substr($buf, 0, $take));
    $head += $take;
    next if $take == $n;
    $buf = substr($buf, $take);
  }
  $past += length $buf;
  $tail .= $buf;
  substr($tail, 0, length($tail) - $tail_max, "") if length($tail) > 2 * $tail_max;
  if (time != $touched) { $touched = time; utime(undef, undef, $log); }
  if ($punched >= 0 && $read - $punched >= $punch_every) { $punched = punch() ? $read : -1; }
}
substr($tail, 0, length($tail) - $tail_max, "") if length($tail) > $tail_max;
my $cut = $past - length $tail;
put("\\n[agent-orchestrator: $cut bytes of output cut here; the log keeps the first $head_max and the last " . length($tail) . "]\\n") if $cut > 0;
put($tail);
close($out) or die "cap_log: $log: $!\n";
`;

/** The shell function the wrapper runs the writer with: `cap_log <spool> <log>`. */
export const CAP_LOG_FUNCTION = `cap_log() {
  exec perl -e '${CAP_LOG_PERL}' -- "$@"
}`;

/**
 * A mark that changes whenever the turn writes output: the log's size, and its modification
 * time, which the writer keeps touching once the log's head is full.
 */
export async function logActivity(logFile: string): Promise<string> {
  const info = await stat(logFile).catch(() => undefined);
  return info ? `${info.size}@${info.mtimeMs}` : '-';
}
