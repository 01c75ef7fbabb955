// The kernel's FUSE io-mode rules as pure functions (no I/O). Used by the
// scenario simulator, the trace reconstruction and the lab's comparison.

export * from './kernel-version';
export * from './flags';
export * from './rules';
export * from './state';
export * from './connection';
export * from './iomode';
export * from './mmap';
export * from './dio';
export * from './backing';
export * from './status-flags';
export * from './msync';
export * from './backing-map';
export * from './flush';
