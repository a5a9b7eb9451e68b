import type { CheckoutLayers } from './sandbox.js';

// Mounts the overlay ($1 its options, $2 the folder, $3 its work folder), then becomes the
// command after them. A volatile overlay leaves a mark in its work folder that refuses the next
// mount until it is removed: it is, since the runner mounts the layers one command at a time.
const MOUNT_THEN_RUN =
  'rm -rf -- "$3/work/incompat" && mount -t overlay overlay -o "$1" "$2" && shift 3 && exec "$@"';

/**
 * The argv that runs `argv` with `layers` mounted on `target` (pure): a user namespace of its
 * own, where the app's user is root (Linux 5.11 and later let it mount overlayfs), and a mount
 * namespace that holds the overlay and ends with the command. No root on the host, nothing to
 * unmount, and no other process (the runner's own git among them) ever sees the merged folder.
 *
 * `volatile`: the overlay never syncs the file system below it. Without it, the end of every
 * mount syncs that whole file system (the host's disk, with whatever else is being written):
 * 30 s for one sandboxed command beside 300 MB of other writes, measured here. The cost: after a
 * host crash, what the session changed since its last push may be damaged; its pushed branch is
 * the truth, as for a dead runner.
 */
export function overlayMountArgv(
  programs: { unshare: string; sh: string },
  layers: CheckoutLayers,
  target: string,
  argv: readonly string[],
): string[] {
  for (const folder of [layers.lower, layers.upper, layers.work, target]) {
    if (/[,:\\]/.test(folder)) {
      throw new Error(`an overlay cannot use a path with ',', ':' or '\\' in it: ${folder}`);
    }
  }
  const options = `lowerdir=${layers.lower},upperdir=${layers.upper},workdir=${layers.work},index=off,volatile`;
  return [
    programs.unshare,
    '--user',
    '--map-root-user',
    '--mount',
    programs.sh,
    '-c',
    MOUNT_THEN_RUN,
    'overlay-mount',
    options,
    target,
    layers.work,
    ...argv,
  ];
}
