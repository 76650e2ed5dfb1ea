import { Worker } from 'node:worker_threads';
import { walkTree, type EntryType, type FoundEntry, type WalkJob } from './walk-tree.js';

/**
 * Runs walkTree on a worker thread and streams what it finds back in
 * batches, so a whole-filesystem walk uses a core of its own while the main
 * thread hashes, reads and writes rows. The worker runs at most a few batches
 * ahead of the reader (a shared counter it waits on), so a /tmp with a
 * million files never piles up in memory.
 *
 * The worker evaluates the source text of walkTree and walkerThread
 * (`new Worker(code, { eval: true })`), so it needs no file of its own and
 * starts the same under tsx, from lib/ and in the single-file build.
 */

/** lstat of an entry, as the walk reports it: times with nanoseconds. */
export interface WalkStat {
  dev: bigint;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** 0n where the filesystem records no birth time. */
  birthtimeNs: bigint;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
}

export interface ThreadEntry {
  hostPath: Buffer;
  type: EntryType;
  depth: number;
  stat: WalkStat | null;
  /** See FoundEntry.head. */
  head?: Buffer | null;
}

const STAT_FIELDS = 12;
/** Control words shared with the worker: batches the reader has finished, and the stop flag. */
const ACKED = 0;
const STOP = 1;
/** Bits of Batch.flags. */
const STATTED = 1;
const HEAD = 2;
const HEAD_FAILED = 4;

interface Batch {
  kind: 'batch';
  paths: Uint8Array;
  ends: Uint32Array;
  depths: Uint16Array;
  types: EntryType[];
  flags: Uint8Array;
  stats: BigInt64Array;
  heads: Uint8Array;
  headEnds: Uint32Array;
  errors: { path: Uint8Array; code: string; message: string }[];
}

/** The worker's side: walk, pack entries into transferable arrays, wait while the reader is behind. */
function walkerThread(walk: typeof walkTree): void {
  const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
  const { job, control } = workerData as { job: WalkJob; control: SharedArrayBuffer };
  // Same layout as ACKED/STOP, the flag bits and STAT_FIELDS outside (this text runs alone, without the module).
  const ctl = new Int32Array(control);
  const BATCH = 512;
  const BATCH_BYTES = 128 * 1024;
  const AHEAD = 4;
  const LATENCY_MS = 50;
  let entries: FoundEntry[] = [];
  let errors: Batch['errors'] = [];
  let bytes = 0;
  let headBytes = 0;
  let sent = 0;
  let last = Date.now();
  const stopped = () => Atomics.load(ctl, 1) !== 0;
  const flush = () => {
    if (entries.length === 0 && errors.length === 0) return;
    for (;;) {
      const acked = Atomics.load(ctl, 0);
      if (sent - acked < AHEAD || stopped()) break;
      Atomics.wait(ctl, 0, acked, 100);
    }
    if (stopped()) return;
    const n = entries.length;
    const paths = new Uint8Array(bytes);
    const text = Buffer.from(paths.buffer);
    const ends = new Uint32Array(n);
    const depths = new Uint16Array(n);
    const flags = new Uint8Array(n);
    const stats = new BigInt64Array(n * 12);
    const heads = new Uint8Array(headBytes);
    const headEnds = new Uint32Array(n);
    const types = new Array<EntryType>(n);
    let at = 0;
    let headAt = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      if (typeof e.hostPath === 'string') at += text.write(e.hostPath, at);
      else {
        paths.set(e.hostPath, at);
        at += e.hostPath.length;
      }
      ends[i] = at;
      depths[i] = e.depth;
      types[i] = e.type;
      let f = 0;
      if (e.head) {
        heads.set(e.head, headAt);
        headAt += e.head.length;
        f |= 2;
      } else if (e.head === null) f |= 4;
      headEnds[i] = headAt;
      const s = e.stat;
      if (s) f |= 1;
      flags[i] = f;
      if (!s) continue;
      const o = i * 12;
      stats[o] = s.dev;
      stats[o + 1] = s.ino;
      stats[o + 2] = s.mode;
      stats[o + 3] = s.nlink;
      stats[o + 4] = s.uid;
      stats[o + 5] = s.gid;
      stats[o + 6] = s.rdev;
      stats[o + 7] = s.size;
      stats[o + 8] = s.atimeNs;
      stats[o + 9] = s.mtimeNs;
      stats[o + 10] = s.ctimeNs;
      stats[o + 11] = s.birthtimeNs;
    }
    const batch: Batch = { kind: 'batch', paths, ends, depths, types, flags, stats, heads, headEnds, errors };
    parentPort!.postMessage(batch, [paths.buffer, ends.buffer, depths.buffer, flags.buffer, stats.buffer, heads.buffer, headEnds.buffer]);
    sent++;
    entries = [];
    errors = [];
    bytes = 0;
    headBytes = 0;
    last = Date.now();
  };
  for (const e of walk(job, (path, code, message) => errors.push({ path, code, message }))) {
    if (stopped()) break;
    if (e) {
      entries.push(e);
      bytes += typeof e.hostPath === 'string' ? Buffer.byteLength(e.hostPath) : e.hostPath.length;
      headBytes += e.head?.length ?? 0;
    }
    if (entries.length >= BATCH || errors.length >= BATCH || bytes >= BATCH_BYTES || (e === null && Date.now() - last >= LATENCY_MS)) flush();
  }
  flush();
  parentPort!.postMessage({ kind: 'done' });
}

let source: string | null = null;

/** tsx compiles with esbuild's keepNames, which wraps inner functions in __name(...): the shim lets that text run alone. */
function workerSource(): string {
  return (source ??= `"use strict";\nconst __name = (f) => f;\n(${walkerThread.toString()})(${walkTree.toString()});\n`);
}

/**
 * The walk's heap is short-lived garbage (a Dirent and a Stats per entry): a
 * small young generation keeps the worker's share of the process's RSS small
 * (16 MB saved ~0.4 s of CPU over a 435,000-entry walk here but cost ~13 MB).
 * The old generation's limit only guards against a runaway; reaching it ends
 * the walk with an EWALK error.
 */
const LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 256 };

export async function* walkOnThread(job: WalkJob, signal: AbortSignal, onError: (hostPath: Buffer, code: string, message: string) => void): AsyncGenerator<ThreadEntry> {
  if (job.roots.length === 0 || signal.aborted) return;
  const control = new Int32Array(new SharedArrayBuffer(8));
  const queue: (Batch | { kind: 'done' })[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  let exited = false;
  const worker = new Worker(workerSource(), { eval: true, workerData: { job, control: control.buffer }, resourceLimits: LIMITS });
  const stop = () => {
    Atomics.store(control, STOP, 1);
    Atomics.notify(control, ACKED);
    void worker.terminate().catch(() => undefined);
  };
  const nudge = () => wake?.();
  worker.on('message', (m: Batch | { kind: 'done' }) => {
    queue.push(m);
    nudge();
  });
  worker.on('error', (err) => {
    failure = err;
    nudge();
  });
  worker.on('exit', () => {
    exited = true;
    nudge();
  });
  // A collector that times out stops reading without finishing this generator: the walk must stop anyway.
  const onAbort = () => {
    stop();
    nudge();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal.aborted) return;
      const m = queue.shift();
      if (!m) {
        if (failure || exited) {
          const why = failure ? (failure as Error).message : 'the walk thread exited early';
          onError(Buffer.from(job.roots[0]!.host), 'EWALK', `walk stopped: ${why}`);
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      if (m.kind === 'done') return;
      for (const e of m.errors) onError(Buffer.from(e.path.buffer, e.path.byteOffset, e.path.byteLength), e.code, e.message);
      const paths = Buffer.from(m.paths.buffer, m.paths.byteOffset, m.paths.byteLength);
      const heads = Buffer.from(m.heads.buffer, m.heads.byteOffset, m.heads.byteLength);
      let start = 0;
      let headStart = 0;
      for (let i = 0; i < m.ends.length; i++) {
        const end = m.ends[i]!;
        const headEnd = m.headEnds[i]!;
        const flags = m.flags[i]!;
        // Copied out: a reader that keeps a few entries (file-scan's pending rows) would otherwise keep whole batches.
        const e: ThreadEntry = { hostPath: Buffer.from(paths.subarray(start, end)), type: m.types[i]!, depth: m.depths[i]!, stat: flags & STATTED ? statAt(m.stats, i) : null };
        if (flags & HEAD) e.head = Buffer.from(heads.subarray(headStart, headEnd));
        else if (flags & HEAD_FAILED) e.head = null;
        yield e;
        start = end;
        headStart = headEnd;
        if (signal.aborted) return;
      }
      Atomics.add(control, ACKED, 1);
      Atomics.notify(control, ACKED);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    stop();
  }
}

function statAt(s: BigInt64Array, i: number): WalkStat {
  const o = i * STAT_FIELDS;
  const ms = (ns: bigint) => Number(ns) / 1e6;
  return {
    dev: BigInt.asUintN(64, s[o]!),
    ino: BigInt.asUintN(64, s[o + 1]!),
    mode: Number(s[o + 2]),
    nlink: Number(s[o + 3]),
    uid: Number(s[o + 4]),
    gid: Number(s[o + 5]),
    rdev: Number(s[o + 6]),
    size: Number(s[o + 7]),
    atimeNs: s[o + 8]!,
    mtimeNs: s[o + 9]!,
    ctimeNs: s[o + 10]!,
    birthtimeNs: s[o + 11]!,
    atimeMs: ms(s[o + 8]!),
    mtimeMs: ms(s[o + 9]!),
    ctimeMs: ms(s[o + 10]!),
    birthtimeMs: ms(s[o + 11]!),
  };
}

