import type { ByteWriter } from './byte-writer.js';
import { OffThreadHash } from './off-thread-hash.js';

/** Where the last stage's bytes go: a file or a stream such as stdout. */
export interface Destination {
  /** Takes bytes in order; the memory is the caller's again once this resolves. */
  send(bytes: Uint8Array): Promise<void>;
  /** After the last send: `ok` false when a send failed. Always called once. */
  end(ok: boolean): Promise<void>;
}

/** Bytes per batch: large enough that a batch costs little in messages and syscalls. */
export const BATCH = 1024 * 1024 - 4096;
/**
 * Batches in use at once (one filling, the rest being hashed or sent). Bytes
 * queued behind a full disk must still fit in the space guard's 8 MiB reserve
 * with the seal, so this stays small.
 */
export const BATCHES = 4;

/**
 * The last stage of an archive bundle. Bytes are gathered into batches; a
 * full batch goes to the hashing worker when the archive's own SHA-256 was
 * asked for (`--archive-hash`), then to the destination, then back to the
 * pool, and batches behind it follow without waiting: while the main thread
 * hashes artefacts and copies, the worker hashes one batch and a pool thread
 * writes the one before. (A chunk handed straight to the destination, one
 * write in flight, kept the main thread waiting for every write;
 * docs/decisions.md.) A failed send is reported by a later write() or by
 * close(): past it the archive has a hole, so everything after is refused.
 */
export class ArchiveOutput implements ByteWriter {
  private readonly hash: OffThreadHash | null;
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private outstanding = 0;
  private batch: Buffer | null = null;
  private filled = 0;
  private chain: Promise<void> = Promise.resolve();
  private waiter: (() => void) | null = null;
  private failure: unknown = null;

  constructor(
    private readonly dest: Destination,
    hashed: boolean,
  ) {
    this.hash = hashed ? new OffThreadHash() : null;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check();
    let off = 0;
    while (off < chunk.length) {
      this.batch ??= await this.take();
      const n = Math.min(chunk.length - off, BATCH - this.filled);
      this.batch.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === BATCH) this.dispatch();
    }
  }

  async close(): Promise<void> {
    let ok = false;
    try {
      if (this.filled > 0) this.dispatch();
      while (this.outstanding > 0) await this.idle();
      this.check();
      ok = true;
    } finally {
      await this.dest.end(ok);
    }
  }

  /** After close(): the SHA-256 of every byte written, if it was asked for. */
  async digest(): Promise<string | null> {
    return this.hash ? this.hash.digest() : null;
  }

  private dispatch(): void {
    const len = this.filled;
    const buffer = this.batch!.buffer as ArrayBuffer;
    const hashed = this.hash ? this.hash.update(buffer, len) : Promise.resolve(buffer);
    this.batch = null;
    this.filled = 0;
    this.outstanding++;
    // Sends start in batch order; the worker answers in batch order, so each waits only for its own hash.
    this.chain = this.chain
      .then(async () => {
        const back = await hashed;
        if (this.failure === null) await this.dest.send(new Uint8Array(back, 0, len));
        this.free.push(Buffer.from(back));
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.outstanding--;
        this.wake();
      });
  }

  private async take(): Promise<Buffer> {
    for (;;) {
      const batch = this.free.pop();
      if (batch) return batch;
      if (this.allocated < BATCHES) {
        this.allocated++;
        return Buffer.allocUnsafeSlow(BATCH);
      }
      await this.idle();
      this.check();
    }
  }

  private idle(): Promise<void> {
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
