import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The archive stream's own SHA-256, computed on a worker thread. Every byte of
 * an archive was already hashed once as an artefact on the main thread; hashing
 * it a second time there capped a tar bundle at half of node:crypto's speed.
 * Batches are transferred to the worker, not copied, and come back with its
 * answer, in order. (Shared memory would let one batch be hashed and written
 * at once, but writing from a SharedArrayBuffer cost the kernel three times as
 * much as from ordinary memory: docs/decisions.md.) Like the hash pool, the
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

interface Waiting<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

export class OffThreadHash {
  private readonly worker: Worker | null;
  private readonly local: Hash | null;
  /** Batches given to the worker, oldest first: it answers them in order. */
  private readonly waiting: Waiting<ArrayBuffer>[] = [];
  private digestWaiter: Waiting<string> | null = null;
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
    worker?.on('message', (m: { digest?: string; buf?: ArrayBuffer }) => {
      if (m.digest !== undefined) return this.digestWaiter?.resolve(m.digest);
      this.waiting.shift()?.resolve(m.buf!);
      if (this.waiting.length === 0) worker.unref();
    });
    // Unreferenced while idle: a bundle that fails half-way must not keep the process alive.
    worker?.unref();
    worker?.on('error', (err) => this.fail(err));
    worker?.on('exit', () => this.fail(new Error('the hashing thread exited')));
  }

  /**
   * Hashes the first `len` bytes of `batch` next. The batch is the worker's
   * (detached here) until it comes back as the resolved value.
   */
  update(batch: ArrayBuffer, len: number): Promise<ArrayBuffer> {
    if (this.local) {
      this.local.update(new Uint8Array(batch, 0, len));
      return Promise.resolve(batch);
    }
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.worker!;
    return new Promise<ArrayBuffer>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      worker.ref();
      worker.postMessage({ buf: batch, len }, [batch]);
    });
  }

  /** The SHA-256 of everything updated so far; call once, after every update has resolved. */
  async digest(): Promise<string> {
    if (this.local) return this.local.digest('hex');
    if (this.failure) throw this.failure;
    const worker = this.worker!;
    worker.ref();
    const hex = await new Promise<string>((resolve, reject) => {
      this.digestWaiter = { resolve, reject };
      worker.postMessage({ digest: true });
    });
    await worker.terminate();
    return hex;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
    this.digestWaiter?.reject(this.failure);
  }
}
