// ioctls on /dev/fuse (include/uapi/linux/fuse.h, FUSE_DEV_IOC_MAGIC 229).

/** /dev/fuse ioctls (magic 229), rules §1. */
export const FUSE_DEV_IOC_BACKING_OPEN = 0x4010e501;
export const FUSE_DEV_IOC_BACKING_CLOSE = 0x4004e502;

/** struct fuse_backing_map { i32 fd; u32 flags; u64 padding; } */
export function encodeBackingMap(fd: number, flags = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(fd, 0);
  b.writeUInt32LE(flags, 4);
  return b;
}
