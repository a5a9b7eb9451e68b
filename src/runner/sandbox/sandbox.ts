/**
 * What a sandboxed command may see and write. Every path is absolute and appears inside at the
 * same path, so the paths in prompts, logs and an agent's own session records stay true.
 */
export interface SandboxScope {
  /** Writable: the session's checkout, its `.git` included. */
  workdir: string;
  /**
   * When the checkout is an overlay: its layers, mounted on `workdir` in a namespace of the
   * sandbox's own (no root needed), so only the sandboxed command sees the merged folder.
   */
  layers?: CheckoutLayers | undefined;
  /** Writable: the session's own HOME, where each CLI keeps its config and sessions. */
  home: string;
  /** Read-only: what the command needs beyond the system folders (a program, borrowed objects). */
  readOnly: readonly string[];
  /** The session's way out, when it has one: its egress proxy's socket and what runs inside. */
  egress?: SandboxEgress | undefined;
}

/** An overlay checkout: a shared read-only checkout below, the session's own changes above. */
export interface CheckoutLayers {
  lower: string;
  upper: string;
  /** overlayfs's scratch folder, on the same file system as `upper`. */
  work: string;
}

export interface SandboxEgress {
  /** The folder holding the proxy's socket (bound, not the socket: a restarted proxy is seen). */
  socketDir: string;
  socketPath: string;
  /** The port the in-sandbox forwarder listens on for HTTP(S)_PROXY. */
  proxyPort: number;
  /** `host:port=localPort`: loopback ports inside that reach a host's port (a local model server). */
  forwards: readonly string[];
}

export type SandboxKind = 'bwrap' | 'off';

export interface Sandbox {
  readonly kind: SandboxKind;
  /**
   * The argv that runs `argv` inside the sandbox, with `cwd` as its working directory. Its
   * processes end with it: nothing a command leaves behind outlives the sandbox.
   */
  command(scope: SandboxScope, argv: readonly string[], cwd: string): string[];
}
