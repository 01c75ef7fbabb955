// The FUSE wire ABI (include/uapi/linux/fuse.h, fuse-kernel-rules.md section 1):
// opcodes, flag bits, ioctl numbers, struct layouts with their decoders and
// encoders. Pure (no I/O): the ground floor under server/model (flag bits),
// server/lab (the lab server speaks it) and server/trace (readers decode with it).

export * from './opcodes';
export * from './flags';
export * from './ioctl';
export * from './requests';
export * from './replies';
export { i32, needBytes, u32, u64, u64Id, U64Halves, ViewOf } from './bytes';
