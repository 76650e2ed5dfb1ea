import { constants as C, promises as fsp } from 'node:fs';
import { errnoCode } from '../lib/user-error.js';

/**
 * Keeps the bundle sealable when the disk fills. A reserve file is held beside
 * the output from the start; on ENOSPC it is released so the custody log and a
 * partial manifest still fit, and the run winds down. Large artefacts are only
 * started when statfs says they fit with a margin to spare.
 */
export const RESERVE_BYTES = 8 * 1024 * 1024;
const MARGIN_BYTES = 32 * 1024 * 1024;

export class DiskFullError extends Error {
  constructor(message = 'no space left on the output device') {
    super(message);
    this.name = 'DiskFullError';
  }
}

export class SpaceGuard {
  full = false;
  private held = false;

  constructor(
    private readonly dir: string,
    private readonly reservePath: string,
  ) {}

  async hold(): Promise<void> {
    const fh = await fsp.open(this.reservePath, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    try {
      await fh.write(Buffer.alloc(RESERVE_BYTES));
      await fh.sync();
      this.held = true;
    } catch (err) {
      await fh.close();
      await fsp.rm(this.reservePath, { force: true });
      if (errnoCode(err) === 'ENOSPC') throw new DiskFullError(`not even ${RESERVE_BYTES / 1048576} MiB free at ${this.dir}`);
      throw err;
    }
    await fh.close();
  }

  /** Gives the reserve back (on ENOSPC, and at the end of every run). */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await fsp.rm(this.reservePath, { force: true });
  }

  async onNoSpace(): Promise<boolean> {
    this.full = true;
    if (!this.held) return false;
    await this.release();
    return true;
  }

  async freeBytes(): Promise<number> {
    const s = await fsp.statfs(this.dir);
    return s.bavail * s.bsize;
  }

  /** Whether `bytes` more fit while leaving the margin free. */
  async hasRoomFor(bytes: number): Promise<boolean> {
    if (this.full) return false;
    return (await this.freeBytes()) - bytes >= MARGIN_BYTES;
  }
}

/** Writes a whole buffer to an fd, freeing the reserve and retrying once on ENOSPC. */
export async function writeAll(fh: fsp.FileHandle, data: Uint8Array, guard: SpaceGuard | null): Promise<void> {
  let off = 0;
  let retried = false;
  while (off < data.length) {
    try {
      const { bytesWritten } = await fh.write(data, off, data.length - off);
      off += bytesWritten;
    } catch (err) {
      if (errnoCode(err) !== 'ENOSPC') throw err;
      if (retried || !guard || !(await guard.onNoSpace())) throw new DiskFullError();
      retried = true;
    }
  }
}
