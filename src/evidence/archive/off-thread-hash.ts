import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The archive stream's own SHA-256, computed on a worker thread. Every byte of
 * an archive was already hashed once as an artefact on the main thread; hashing
 * it a second time there capped a tar bundle at half of node:crypto's speed.
 * Bytes are gathered into 1 MiB batches (a tar header is 512 bytes; a batch per
 * header would cost more in messages than in hashing), each batch is
 * transferred, not copied, and comes back with the worker's acknowledgement to
 * be filled again, so memory stays at a few batches. Like the hash pool, the
 * worker is an evaluated string: the same under tsx, lib/ and the single-file
 * build; where it cannot start, hashing falls back to this thread.
 */
const WORKER_CODE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const h = createHash('sha256');
parentPort.on('message', (m) => {
  if (m.digest) return parentPort.postMessage({ digest: h.digest('hex') });
  h.update(new Uint8Array(m.buf, 0, m.len));
  parentPort.postMessage({ buf: m.buf }, [m.buf]);
});
`;

const BATCH = 4 * 1024 * 1024;
/** Batches handed to the worker and not yet acknowledged before update() waits. */
const MAX_IN_FLIGHT = 2;

export class OffThreadHash {
  private readonly worker: Worker | null;
  private readonly local: Hash | null;
  private batch: Buffer;
  private filled = 0;
  private readonly spare: ArrayBuffer[] = [];
  private inFlight = 0;
  private waiter: (() => void) | null = null;
  private digestWaiter: ((hex: string) => void) | null = null;
  private failure: Error | null = null;

  constructor() {
    let worker: Worker | null = null;
    try {
      worker = new Worker(WORKER_CODE, { eval: true });
    } catch {
      worker = null;
    }
    this.worker = worker;
    this.local = worker ? null : createHash('sha256');
    this.batch = Buffer.allocUnsafeSlow(BATCH);
    worker?.on('message', (m: { buf?: ArrayBuffer; digest?: string }) => {
      if (m.digest !== undefined) {
        this.digestWaiter?.(m.digest);
        return;
      }
      if (m.buf) this.spare.push(m.buf);
      this.inFlight--;
      this.wake();
    });
    // Unreferenced: a bundle that fails half-way must not keep the process alive; waits below reference it.
    worker?.unref();
    worker?.on('error', (err) => this.fail(err));
    worker?.on('exit', () => this.fail(new Error('the hashing thread exited')));
  }

  /** Takes a copy of the bytes; resolves at once unless the worker is behind. */
  async update(chunk: Uint8Array): Promise<void> {
    if (this.local) {
      this.local.update(chunk);
      return;
    }
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, BATCH - this.filled);
      this.batch.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === BATCH) await this.send();
    }
  }

  async digest(): Promise<string> {
    if (this.local) return this.local.digest('hex');
    if (this.filled > 0) await this.send();
    const worker = this.worker!;
    this.check();
    worker.ref();
    const hex = await new Promise<string>((resolve, reject) => {
      this.digestWaiter = resolve;
      this.waiter = () => {
        if (this.failure) reject(this.failure);
      };
      worker.postMessage({ digest: true });
    });
    await worker.terminate();
    return hex;
  }

  /** Stops the worker without a digest (the bundle failed). */
  async dispose(): Promise<void> {
    await this.worker?.terminate();
  }

  private async send(): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.worker!.ref();
      while (this.inFlight >= MAX_IN_FLIGHT && !this.failure) await new Promise<void>((resolve) => (this.waiter = resolve));
      this.worker!.unref();
    }
    this.check();
    const buf = this.batch.buffer as ArrayBuffer;
    this.worker!.postMessage({ buf, len: this.filled }, [buf]);
    this.inFlight++;
    const reuse = this.spare.pop();
    this.batch = reuse ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(BATCH);
    this.filled = 0;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
