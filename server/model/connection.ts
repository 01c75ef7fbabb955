// Connection state after FUSE_INIT: what the kernel really enabled from the
// server's INIT reply. Mirrors process_init_reply() in fs/fuse/inode.c.

import { kernelFeatures, type KernelFeatures, type KernelVersion } from './kernel-version';

/** What the server answers to FUSE_INIT, as a scenario's `init` line says. */
export interface InitReply {
  flags: ReadonlySet<string>;
  /** fuse_init_out.max_stack_depth; undefined when the line does not give it. */
  maxStackDepth: number | undefined;
}

export interface Connection {
  kernel: KernelVersion;
  features: KernelFeatures;
  /** fc->passthrough */
  passthrough: boolean;
  /** fc->max_stack_depth (0 when passthrough is off) */
  maxStackDepth: number;
  /** fc->direct_io_allow_mmap */
  directIoAllowMmap: boolean;
  /** fc->writeback_cache */
  writebackCache: boolean;
  /** fc->no_open: the server answered OPEN with ENOSYS */
  noOpen: boolean;
  /** fc->no_flush: the server answered a FLUSH with ENOSYS (fuse_flush); no FLUSH is sent from then on */
  noFlush: boolean;
}

/** Why passthrough stayed off although the server asked for it (null when on or not asked). */
export type PassthroughOff = 'kernel-too-old' | 'writeback-cache' | 'max-stack-depth' | null;

/**
 * The stack depth a server sends when the scenario does not say: libfuse sends
 * max_backing_stack_depth + 1, which is 1 by default (rules section 1).
 */
export const DEFAULT_MAX_STACK_DEPTH = 1;

/**
 * process_init_reply(): passthrough is on only with CONFIG_FUSE_PASSTHROUGH
 * (6.9+), FUSE_PASSTHROUGH in the reply, 1 <= max_stack_depth <= 2
 * (FILESYSTEM_MAX_STACK_DEPTH) and no FUSE_WRITEBACK_CACHE. Otherwise the
 * mount still succeeds, with passthrough silently off.
 */
export function processInitReply(kernel: KernelVersion, reply: InitReply): { conn: Connection; passthroughOff: PassthroughOff } {
  const features = kernelFeatures(kernel);
  const wantsPassthrough = reply.flags.has('passthrough');
  const depth = reply.maxStackDepth ?? (wantsPassthrough ? DEFAULT_MAX_STACK_DEPTH : 0);
  const writebackCache = reply.flags.has('writeback_cache');
  let passthroughOff: PassthroughOff = null;
  if (wantsPassthrough) {
    if (!features.ioModes) passthroughOff = 'kernel-too-old';
    else if (depth < 1 || depth > 2) passthroughOff = 'max-stack-depth';
    else if (writebackCache) passthroughOff = 'writeback-cache';
  }
  const passthrough = wantsPassthrough && passthroughOff === null;
  return {
    conn: {
      kernel,
      features,
      passthrough,
      maxStackDepth: passthrough ? depth : 0,
      directIoAllowMmap: features.directIoAllowMmap && reply.flags.has('direct_io_allow_mmap'),
      writebackCache,
      noOpen: reply.flags.has('no_open'),
      noFlush: false,
    },
    passthroughOff,
  };
}
