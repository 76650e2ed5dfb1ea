import { constants as C, promises as fsp } from 'node:fs';
import { kernelRegion, parseMaps, type Mapping } from '../../acquire/memory/proc-maps.js';
import type { Host } from '../../host/host.js';
import { errnoCode } from '../../lib/user-error.js';

/** Bytes scanned per read of /proc/PID/mem: large reads are what make it fast (toolchain: 3.6 GB/s at 1 MiB). */
export const WINDOW_BYTES = 16 * 1024 * 1024;
/** Bytes each window repeats of the one before, so a string that straddles two windows is still found whole. */
export const OVERLAP_BYTES = 64 * 1024;
const MAX_ADDRESS = BigInt(Number.MAX_SAFE_INTEGER);
/** Errors that mean "these pages cannot be read", not "something is wrong": the region is skipped. */
const READ_REFUSED = new Set(['EIO', 'EFAULT', 'ENOMEM', 'EPERM', 'EACCES']);

/** One window of a process's memory: its bytes and the virtual address of the first. */
export interface MemoryWindow {
  address: number;
  data: Buffer;
  mapping: Mapping;
}

export interface MemoryReadNotes {
  regions: number;
  bytesRead: number;
  /** Readable regions the kernel would not give (EIO, EFAULT), and their bytes. */
  unreadableRegions: number;
  unreadableBytes: number;
  /** Stopped at maxBytes. */
  capped: boolean;
}

/**
 * The readable memory of a live process, window by window: every mapping with
 * r in its permissions in /proc/PID/maps, except the kernel's own pages
 * ([vvar] fails every read, [vsyscall] is above what a file position can
 * hold). Each window repeats the last OVERLAP_BYTES of the one before in the
 * same region; the buffer is reused, so the caller must be done with a window
 * before asking for the next. A region that fails to read is counted and
 * skipped.
 */
export async function* processMemory(host: Host, pid: number, maxBytes: number, notes: MemoryReadNotes, signal?: AbortSignal): AsyncGenerator<MemoryWindow> {
  const maps = await host.readProc(`${pid}/maps`, { maxBytes: 64 * 1024 * 1024 });
  const memPath = host.procPath(`${pid}/mem`);
  if (memPath === null) return;
  const fh = await fsp.open(memPath, C.O_RDONLY);
  try {
    const buf = Buffer.allocUnsafe(WINDOW_BYTES);
    for (const m of parseMaps(maps.data).mappings) {
      if (m.perms[0] !== 'r' || kernelRegion(m.path) !== null || m.end > MAX_ADDRESS) continue;
      notes.regions++;
      const end = Number(m.end);
      let pos = Number(m.start);
      // buf[0, carried) repeats the end of the previous window of this region
      let carried = 0;
      while (pos < end) {
        if (signal?.aborted) return;
        if (notes.bytesRead >= maxBytes) {
          notes.capped = true;
          return;
        }
        const want = Math.min(WINDOW_BYTES - carried, end - pos, maxBytes - notes.bytesRead);
        let got: number;
        try {
          got = (await fh.read(buf, carried, want, pos)).bytesRead;
        } catch (err) {
          if (!READ_REFUSED.has(errnoCode(err) ?? '')) throw err;
          got = 0;
        }
        if (got === 0) {
          notes.unreadableRegions++;
          notes.unreadableBytes += end - pos;
          break;
        }
        notes.bytesRead += got;
        const len = carried + got;
        yield { address: pos - carried, data: buf.subarray(0, len), mapping: m };
        pos += got;
        const keep = Math.min(OVERLAP_BYTES, len);
        buf.copyWithin(0, len - keep, len);
        carried = keep;
      }
    }
  } finally {
    await fh.close();
  }
}
