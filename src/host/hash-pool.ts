import { read } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * Hashes open files on worker threads where cores are to spare, so checking a
 * thousand package files uses them (node:crypto hashes on the calling thread).
 * The caller opens the file safely (Host.openFile: regular files only, never a
 * FIFO, never through a planted symlink) and hands over the descriptor; the
 * worker reads it with positioned reads and never opens anything itself.
 *
 * The worker's code is a plain string evaluated by `new Worker(..., {eval: true})`
 * so it needs no separate file: it works the same under tsx, from lib/ and in the
 * single-file build. Without workers (see DEFAULT_THREADS, or where they cannot
 * start) files are hashed on this thread.
 */
const WORKER_CODE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { readSync } = require('node:fs');
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', (job) => {
  try {
    const hashes = job.algos.map((a) => createHash(a));
    let pos = 0;
    for (;;) {
      const want = Math.min(buf.length, job.maxBytes - pos);
      if (want <= 0) break;
      const n = readSync(job.fd, buf, 0, want, pos);
      if (n === 0) break;
      for (const h of hashes) h.update(buf.subarray(0, n));
      pos += n;
    }
    parentPort.postMessage({ id: job.id, digests: hashes.map((h) => h.digest('hex')), bytes: pos });
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: (e && e.code) || String(e) });
  }
});
`;

export interface HashResult {
  /** Hex digests, in the order the algorithms were asked for. */
  digests: string[];
  /** Bytes hashed (less than the file when maxBytes cut it short). */
  bytes: number;
}

interface Job {
  id: number;
  owner: HashPool;
  fd: number;
  algos: string[];
  maxBytes: number;
  resolve(r: HashResult): void;
  reject(e: Error): void;
}

export class HashError extends Error {
  constructor(readonly code: string) {
    super(`hashing failed (${code})`);
  }
}

/**
 * Hashing threads a pool gets unless it asks for a number: during a triage the
 * main thread and the filesystem walk's thread each keep a core busy, so
 * hashing gets the cores left (at most 4). With none left (2 cores or fewer)
 * files are hashed on the main thread between its other work: a hashing
 * thread there only took turns with the other two for the same cores and cost
 * a heap of its own (about 10 MB of RSS).
 */
const DEFAULT_THREADS = Math.max(0, Math.min(4, os.availableParallelism() - 2));
const MAX_THREADS = 4;

/**
 * The worker threads every HashPool shares. Collectors that hash at the same
 * time (packages beside file-scan) queue on the same threads instead of
 * starting a set each: two sets on a 2-core machine only compete for the same
 * cores, and each idle worker costs its own heap.
 */
class Threads {
  readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 1;
  leases = 0;

  grow(size: number): void {
    while (this.workers.length < Math.min(size, MAX_THREADS)) {
      let w: Worker;
      try {
        w = new Worker(WORKER_CODE, { eval: true });
      } catch {
        return;
      }
      w.unref();
      w.on('message', (m: { id: number; digests?: string[]; bytes?: number; error?: string }) => {
        const job = this.running.get(w);
        this.running.delete(w);
        if (job && job.id === m.id) {
          if (m.error !== undefined) job.reject(new HashError(m.error));
          else job.resolve({ digests: m.digests!, bytes: m.bytes! });
        }
        w.unref();
        this.idle.push(w);
        this.pump();
      });
      w.on('error', () => this.retire(w));
      w.on('exit', () => this.retire(w));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  submit(owner: HashPool, fd: number, algos: string[], maxBytes: number): Promise<HashResult> {
    if (this.workers.length === 0) return hashHere(fd, algos, maxBytes);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, owner, fd, algos, maxBytes, resolve, reject });
      this.pump();
    });
  }

  /** Jobs of a closed pool that have not started are refused; started ones finish (their descriptors stay open until then). */
  drop(owner: HashPool): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]!.owner !== owner) continue;
      this.queue.splice(i, 1)[0]!.reject(new HashError('ECLOSED'));
    }
  }

  async stop(): Promise<void> {
    const workers = this.workers.splice(0);
    this.idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate().catch(() => 0)));
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      w.ref(); // a busy worker keeps the process alive until its answer arrives
      w.postMessage({ id: job.id, fd: job.fd, algos: job.algos, maxBytes: job.maxBytes });
    }
  }

  /** A worker that died (or could not start, e.g. where workers cannot load node:crypto) hands its job back. */
  private retire(w: Worker): void {
    const job = this.running.get(w);
    this.running.delete(w);
    const i = this.workers.indexOf(w);
    if (i >= 0) this.workers.splice(i, 1);
    const k = this.idle.indexOf(w);
    if (k >= 0) this.idle.splice(k, 1);
    if (job && !job.owner.closed) this.queue.unshift(job);
    else job?.reject(new HashError('ECLOSED'));
    if (this.workers.length === 0) for (const j of this.queue.splice(0)) hashHere(j.fd, j.algos, j.maxBytes).then(j.resolve, j.reject);
    else this.pump();
  }
}

let shared: Threads | null = null;

/** One collector's use of the shared hashing threads; close() when done. */
export class HashPool {
  private isClosed = false;

  private constructor(private readonly threadsOf: Threads) {}

  /** A pool of up to `size` workers (0: hash on this thread), shared with every other open pool. */
  static open(size = DEFAULT_THREADS): HashPool {
    shared ??= new Threads();
    shared.leases++;
    shared.grow(size);
    return new HashPool(shared);
  }

  get threads(): number {
    return this.threadsOf.workers.length;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Hashes an open descriptor from offset 0 up to maxBytes. The caller keeps the descriptor open until this settles. */
  hash(fd: number, algos: string[], maxBytes = Number.MAX_SAFE_INTEGER): Promise<HashResult> {
    if (this.closed) return Promise.reject(new HashError('ECLOSED'));
    return this.threadsOf.submit(this, fd, algos, maxBytes);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const t = this.threadsOf;
    t.drop(this);
    if (--t.leases > 0) return;
    if (shared === t) shared = null;
    await t.stop();
  }
}

/**
 * Without workers (one core, or none could start) files are hashed on this
 * thread, one after another through one buffer: running them side by side
 * here would gain nothing and hold a buffer each. Reads stay asynchronous so
 * a slow disk never stalls the event loop.
 */
const here: { busy: Promise<unknown>; buf: Buffer | null } = { busy: Promise.resolve(), buf: null };

function hashHere(fd: number, algos: string[], maxBytes: number): Promise<HashResult> {
  const run = here.busy.then(async () => {
    const buf = (here.buf ??= Buffer.allocUnsafe(1 << 20));
    const hashes = algos.map((a) => createHash(a));
    let pos = 0;
    for (;;) {
      const want = Math.min(buf.length, maxBytes - pos);
      if (want <= 0) break;
      const n = await new Promise<number>((resolve, reject) => read(fd, buf, 0, want, pos, (err, bytes) => (err ? reject(new HashError(err.code ?? 'EIO')) : resolve(bytes))));
      if (n === 0) break;
      for (const h of hashes) h.update(buf.subarray(0, n));
      pos += n;
    }
    return { digests: hashes.map((h) => h.digest('hex')), bytes: pos };
  });
  here.busy = run.catch(() => undefined);
  return run;
}

/** Runs fn over items with at most `limit` in flight, in order of arrival; stops taking items once the signal aborts. */
export async function eachBounded<T>(items: AsyncIterable<T> | Iterable<T>, limit: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  const inflight = new Set<Promise<void>>();
  for await (const item of items) {
    if (signal.aborted) break;
    const p: Promise<void> = fn(item).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= limit) await Promise.race(inflight);
  }
  await Promise.all(inflight);
}
