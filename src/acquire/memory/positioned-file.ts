import type { promises as fsp } from 'node:fs';

/**
 * What the readers need from a source: reads at a position, which a file, a
 * character device (/dev/mem, /dev/crash), /proc/kcore and /proc/PID/mem all
 * give. Tests and property tests put a Buffer behind the same interface.
 */
export interface PositionedFile {
  /** Bytes read into buf[offset, offset+length) from `position`; 0 at the end; throws on a read error. */
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
}

export function fromHandle(fh: fsp.FileHandle): PositionedFile {
  return { read: async (buf, offset, length, position) => (await fh.read(buf, offset, length, position)).bytesRead };
}

export function fromBuffer(data: Uint8Array): PositionedFile {
  return {
    read: async (buf, offset, length, position) => {
      if (position >= data.length) return 0;
      const n = Math.min(length, data.length - position);
      buf.set(data.subarray(position, position + n), offset);
      return n;
    },
  };
}

/** Fills as much of buf[offset, offset+length) as the source has, looping over short reads; stops at the end. */
export async function readFull(file: PositionedFile, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const n = await file.read(buf, offset + got, length - got, position + got);
    if (n <= 0) break;
    got += n;
  }
  return got;
}
