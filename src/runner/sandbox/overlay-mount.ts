import type { CheckoutLayers } from './sandbox.js';

// Mounts the overlay ($1 its options, $2 the folder), then becomes the command after them.
const MOUNT_THEN_RUN = 'mount -t overlay overlay -o "$1" "$2" && shift 2 && exec "$@"';

/**
 * The argv that runs `argv` with `layers` mounted on `target` (pure): a user namespace of its
 * own, where the app's user is root (Linux 5.11 and later let it mount overlayfs), and a mount
 * namespace that holds the overlay and ends with the command. No root on the host, nothing to
 * unmount, and no other process (the runner's own git among them) ever sees the merged folder.
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
  const options = `lowerdir=${layers.lower},upperdir=${layers.upper},workdir=${layers.work},index=off`;
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
    ...argv,
  ];
}
