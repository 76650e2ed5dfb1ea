import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createEvidenceFile } from '../../evidence/archive/outputs.js';
import { recycledFileChunks } from '../../evidence/file-chunks.js';

/**
 * A private directory (0700, a fresh name made by mkdtemp) where capture files
 * wait until they are complete: a tar entry needs its size before its bytes.
 * Files are created O_EXCL|O_NOFOLLOW, mode 0600.
 */
export class Staging {
  private constructor(readonly dir: string) {}

  static async create(parent: string): Promise<Staging> {
    return new Staging(await fsp.mkdtemp(path.join(parent, '.goldhour-pcap-staging-')));
  }

  async file(name: string): Promise<StagedFile> {
    const p = path.join(this.dir, name);
    return new StagedFile(p, await createEvidenceFile(p));
  }

  /** Removes the directory if nothing is left in it; returns what is left otherwise. */
  async removeIfEmpty(): Promise<string[]> {
    const left = await fsp.readdir(this.dir).catch(() => []);
    if (left.length === 0) await fsp.rmdir(this.dir).catch(() => undefined);
    return left;
  }
}

/**
 * Pieces arrive a pipe read (at most 64 KiB) at a time, and most reads give
 * two (the record that straddled the previous read, then a run of whole
 * ones); they are gathered into 1 MiB writes, one in flight while the next
 * fills (writing each piece as it came ran at a third of the speed, see
 * docs/decisions.md).
 */
const BATCH_BYTES = 1024 * 1024;

/**
 * One file being staged. Its SHA-256 is taken as the bytes arrive, so the
 * case writer's own hash (taken as it copies the file into the bundle) shows
 * whether anything touched the staging area in between.
 */
export class StagedFile {
  private readonly hash = createHash('sha256');
  private pending: Promise<void> = Promise.resolve();
  private failure: { err: unknown } | null = null;
  private closed = false;
  /** Two batch buffers: one being written while the other fills. */
  private batches: Buffer[] = [Buffer.allocUnsafe(BATCH_BYTES), Buffer.allocUnsafe(BATCH_BYTES)];
  private fill = 0;
  size = 0;
  sha256: string | null = null;

  constructor(
    readonly path: string,
    private fh: fsp.FileHandle | null,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    if (this.closed || !this.fh) throw new Error(`${this.path}: written after close`);
    this.hash.update(data);
    this.size += data.length;
    for (let off = 0; off < data.length; ) {
      const take = Math.min(BATCH_BYTES - this.fill, data.length - off);
      this.batches[0]!.set(data.subarray(off, off + take), this.fill);
      this.fill += take;
      off += take;
      if (this.fill === BATCH_BYTES) await this.flush();
    }
  }

  /** Starts writing the filled batch once the previous write has landed, and swaps buffers. */
  private async flush(): Promise<void> {
    await this.landed();
    if (this.fill === 0) return;
    const [full, spare] = this.batches as [Buffer, Buffer];
    this.pending = writeFully(this.fh!, full.subarray(0, this.fill)).catch((err: unknown) => {
      this.failure = { err };
    });
    this.batches = [spare, full];
    this.fill = 0;
  }

  private async landed(): Promise<void> {
    await this.pending;
    if (this.failure) throw this.failure.err;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
      await this.landed();
    } finally {
      this.batches = [];
      await this.fh?.close();
      this.fh = null;
    }
    this.sha256 = this.hash.digest('hex');
  }

  /** Reads the staged file back, in 1 MiB chunks, for CaseWriter.addStream only (recycled buffers). */
  async *chunks(): AsyncGenerator<Buffer> {
    const fh = await fsp.open(this.path, 'r');
    try {
      yield* recycledFileChunks(fh, this.size);
    } finally {
      await fh.close();
    }
  }

  async remove(): Promise<void> {
    await fsp.rm(this.path, { force: true });
  }
}

async function writeFully(fh: fsp.FileHandle, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length; ) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}
