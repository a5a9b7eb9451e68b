import { FORWARDER_READY_LINE } from './egress-forwarder.js';
import type { SandboxEgress } from './sandbox.js';

/**
 * The bash program that starts a command inside the sandbox behind its egress forwarder:
 * `bash -c EGRESS_LAUNCHER launcher <node> <forwarder source> <socket> <port> <forwards...> -- <argv...>`.
 * It starts the forwarder, waits (up to 30 s) for its ready line, then becomes the command.
 * The forwarder stays in the sandbox's PID namespace and ends with it.
 */
export const EGRESS_LAUNCHER = `set -u
node=$1 source=$2
shift 2
forwarder=()
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do forwarder+=("$1"); shift; done
if [ "\${1-}" != -- ]; then echo 'sandbox: expected -- before the command' >&2; exit 125; fi
shift
exec 3< <(exec "$node" -e "$source" "\${forwarder[@]}" </dev/null)
if ! IFS= read -r -t 30 ready <&3 || [ "$ready" != '${FORWARDER_READY_LINE}' ]; then
  echo 'sandbox: the egress forwarder did not start' >&2
  exit 125
fi
exec 3<&-
exec "$@"
`;

/** The command inside the sandbox: the launcher, the forwarder's arguments, then argv. */
export function behindEgress(
  egress: SandboxEgress,
  forwarder: { node: string; source: string },
  bash: string,
  argv: readonly string[],
): string[] {
  return [
    bash,
    '-c',
    EGRESS_LAUNCHER,
    'launcher',
    forwarder.node,
    forwarder.source,
    egress.socketPath,
    String(egress.proxyPort),
    ...egress.forwards,
    '--',
    ...argv,
  ];
}
