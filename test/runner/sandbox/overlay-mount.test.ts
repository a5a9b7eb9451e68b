import { describe, expect, it } from 'vitest';
import { overlayMountArgv } from '../../../src/runner/sandbox/overlay-mount.js';

const programs = { unshare: '/usr/bin/unshare', sh: '/bin/sh' };
const layers = {
  lower: '/w/bases/1/abc',
  upper: '/w/overlays/s/upper',
  work: '/w/overlays/s/work',
};

describe('overlayMountArgv', () => {
  it('mounts the layers in a namespace of its own, then runs the command with its arguments intact', () => {
    const argv = overlayMountArgv(programs, layers, '/w/sessions/s', [
      'bwrap',
      '--',
      'sh',
      '-c',
      '$1 "x"',
    ]);
    expect(argv.slice(0, 5)).toEqual([
      '/usr/bin/unshare',
      '--user',
      '--map-root-user',
      '--mount',
      '/bin/sh',
    ]);
    // The paths are arguments of the script, never part of it.
    expect(argv[6]).not.toContain('/w/');
    expect(argv.slice(8)).toEqual([
      'lowerdir=/w/bases/1/abc,upperdir=/w/overlays/s/upper,workdir=/w/overlays/s/work,index=off,volatile',
      '/w/sessions/s',
      '/w/overlays/s/work',
      'bwrap',
      '--',
      'sh',
      '-c',
      '$1 "x"',
    ]);
  });

  it('refuses a path overlayfs options cannot carry, rather than mount something else', () => {
    for (const odd of ['/w/a,lowerdir=/etc', '/w/a:b', '/w/a\\b']) {
      expect(() => overlayMountArgv(programs, { ...layers, upper: odd }, '/w/s', ['true'])).toThrow(
        /cannot use a path/,
      );
      expect(() => overlayMountArgv(programs, layers, odd, ['true'])).toThrow(/cannot use a path/);
    }
  });
});
