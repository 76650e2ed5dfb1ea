import { createHash } from 'node:crypto';
import { closeSync, constants as C, existsSync, open, openSync, promises as fsp, read, readSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { HostReadError } from '../host/host.js';
import { parseMountinfo } from '../host/mountinfo.js';
import { parseGroup, parsePasswd, userNames } from '../host/passwd.js';
import {
  CLK_TCK,
  EnvironScanner,
  PF_KTHREAD,
  ancestry,
  isPidName,
  mappedFiles,
  parseBtime,
  parseCgroup,
  parseExeLink,
  parseLdSoPreload,
  parseLoadavg,
  parseNsLink,
  parseStat,
  parseStatus,
  socketInode,
  splitCmdline,
  type ProcStat,
} from '../host/proc-pid.js';
import { bundlePathForHostFile, encodeHostPath } from '../lib/host-path.js';
import { errnoCode } from '../lib/user-error.js';
import { defineCollector, type CollectorContext } from './collector.js';

// ---------------------------------------------------------------------------
// Tuning. Timings measured on a 2-core VM are in the collector's report.

/** How long CPU use is sampled: two reads of utime+stime this far apart, for every process at once. */
const SAMPLE_MS = 400;
/** Processes whose files are read at the same time. */
const WORKERS = 8;
/** Executables hashed at the same time (large reads; the disk is the limit). */
const HASHERS = 2;
/** Executables larger than this are not hashed (noted in the row). */
const MAX_HASH_BYTES = 1024 * 1024 * 1024;
/** Deleted executables larger than this are copied only up to this size (--copy-deleted). */
const MAX_COPY_BYTES = 512 * 1024 * 1024;
const MAX_CMDLINE = 1024 * 1024;
/** environ is scanned whole (in chunks, keeping only LD_ variables) up to this size. */
const MAX_ENVIRON = 64 * 1024 * 1024;
/** Open file descriptors looked at per process (the count is always complete). */
const MAX_FDS = 200_000;
/**
 * Direct lookups of /proc/PID cost about 10 µs each on a small VM, so pid_max
 * (often 4194304) is not probed whole unless asked (--deep): at most
 * PROBE_BUDGET pids, those up to the highest pid seen plus PROBE_MARGIN,
 * ending there (the most recently handed out). The children walk covers the rest.
 */
const PROBE_BUDGET = 65_536;
const PROBE_MARGIN = 4_096;
const PROBE_CHUNK = 1_024;

/**
 * A read of cmdline or environ, or a stat of an executable, that has not
 * returned after this long is given up (the process's memory lock is held, or
 * the file's NFS server or FUSE daemon is dead); after MAX_BLOCKED such
 * give-ups (hash reads included) no more are tried, so stuck reads can never
 * take the whole thread pool (4 threads), and with it the writing of the bundle.
 */
const SLOW_READ_MS = 3_000;
const MAX_BLOCKED = 2;

const PROC_SUPER_MAGIC = 0x9fa0;
const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
type NsName = (typeof NAMESPACES)[number];
const LD_VARS = ['LD_PRELOAD', 'LD_LIBRARY_PATH'] as const;
const GONE = new Set(['ENOENT', 'ESRCH']);

// ---------------------------------------------------------------------------
// Reading /proc: the live kernel's procfs directly (fast, no copies), or a
// saved --proc tree through the Host (which refuses FIFOs and devices).

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };
const fail = (err: unknown): { ok: false; code: string } => ({
  ok: false,
  code: err instanceof HostReadError ? err.code : (errnoCode(err) ?? 'EIO'),
});

class ProcFs {
  /** Slow reads, stats and hash reads given up so far (their thread-pool threads may still be stuck). */
  blocked = 0;

  private constructor(
    private readonly ctx: CollectorContext,
    readonly root: string,
    /** The running kernel's procfs (not a saved copy): links can be followed and pids probed. */
    readonly live: boolean,
  ) {}

  static async open(ctx: CollectorContext): Promise<ProcFs | null> {
    const root = ctx.host.procRoot;
    if (root === null) return null;
    let live = false;
    try {
      live = Number((await fsp.statfs(root)).type) === PROC_SUPER_MAGIC;
    } catch {
      return null;
    }
    return new ProcFs(ctx, root, live);
  }

  path(rel: string): string {
    return `${this.root}/${rel}`;
  }

  /**
   * Reads a /proc file. On the live procfs most files are answered from kernel
   * memory at once, so they are read synchronously: tens of thousands of small
   * reads through the thread pool cost seconds on a loaded 2-core machine. Files
   * that can block on a process's memory lock (cmdline, environ: a process stuck
   * in a page fault on a dead NFS server hangs `ps` this way) are `slow` and go
   * through the thread pool, so a hang there cannot freeze the run or its timeout.
   */
  async read(rel: string, maxBytes: number, how: ReadHow = 'seq'): Promise<Outcome<{ data: Buffer; truncated: boolean }>> {
    const chunks: Buffer[] = [];
    let total = 0;
    const r = await this.scan(rel, maxBytes + 1, (c) => {
      chunks.push(Buffer.from(c));
      total += c.length;
    }, how);
    if (!r.ok) return r;
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    return { ok: true, value: total > maxBytes ? { data: data.subarray(0, maxBytes), truncated: true } : { data, truncated: false } };
  }

  /**
   * Feeds a file to `feed` in chunks (views of a shared buffer: copy what you
   * keep) without holding it whole, up to maxBytes. A saved /proc is read
   * through the Host, which refuses FIFOs and devices.
   */
  async scan(rel: string, maxBytes: number, feed: (chunk: Buffer) => void, how: ReadHow = 'seq'): Promise<Outcome<{ truncated: boolean }>> {
    if (!this.live) {
      try {
        if (!(await this.savedIs(rel, 'file'))) return { ok: false, code: 'ESYMLINK' };
        const r = await this.ctx.host.readProc(rel, { maxBytes });
        feed(r.data);
        return { ok: true, value: { truncated: r.truncated } };
      } catch (err) {
        return fail(err);
      }
    }
    const flags = C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY | C.O_NOFOLLOW;
    const slow = how === 'slow';
    if (slow && this.blocked >= MAX_BLOCKED) return { ok: false, code: 'ESKIPPED' };
    const buf = slow ? (SLOW_BUFFERS.pop() ?? Buffer.allocUnsafe(64 * 1024)) : SCRATCH;
    let total = 0;
    let fd = -1;
    let abandoned = false;
    try {
      if (slow) {
        // environ's open takes the process's exec lock, so even opening may wait
        const opening = openAsync(this.path(rel), flags);
        const r = await withDeadline(opening, SLOW_READ_MS);
        if (r === null) {
          this.blocked++;
          void opening.then(closeSync, () => undefined);
          return { ok: false, code: 'EBLOCKED' };
        }
        fd = r;
      } else {
        fd = openSync(this.path(rel), flags);
      }
      for (;;) {
        const want = Math.min(buf.length, maxBytes - total);
        let n: number;
        if (slow) {
          const pending = readAsync(fd, buf, want);
          const r = await withDeadline(pending, SLOW_READ_MS);
          if (r === null) {
            // abandoned: the descriptor is closed when (if ever) the read returns
            this.blocked++;
            const stuck = fd;
            fd = -1;
            abandoned = true;
            void pending.finally(() => closeSync(stuck)).catch(() => undefined);
            return { ok: false, code: 'EBLOCKED' };
          }
          n = r;
        } else {
          n = readSync(fd, buf, 0, want, null);
        }
        if (n > 0) feed(buf.subarray(0, n));
        total += n;
        if (total >= maxBytes) return { ok: true, value: { truncated: true } };
        // single-record files (stat, status) and cmdline/environ fill the buffer while they have more
        if (n === 0 || (how !== 'seq' && n < want)) return { ok: true, value: { truncated: false } };
      }
    } catch (err) {
      return fail(err);
    } finally {
      if (fd !== -1) closeSync(fd);
      // a buffer an abandoned read may still write into is not reused
      if (slow && !abandoned && SLOW_BUFFERS.length < 32) SLOW_BUFFERS.push(buf);
    }
  }

  async readlink(rel: string): Promise<Outcome<Buffer>> {
    try {
      const p = this.path(rel);
      return { ok: true, value: this.live ? readlinkSync(p, { encoding: 'buffer' }) : await fsp.readlink(p, { encoding: 'buffer' }) };
    } catch (err) {
      return fail(err);
    }
  }

  async readdir(rel: string): Promise<Outcome<string[]>> {
    try {
      const p = rel === '' ? this.root : this.path(rel);
      if (!this.live && rel !== '' && !(await this.savedIs(rel, 'dir'))) return { ok: false, code: 'ESYMLINK' };
      return { ok: true, value: this.live ? readdirSync(p) : await fsp.readdir(p) };
    } catch (err) {
      return fail(err);
    }
  }

  /**
   * In a saved /proc, files and directories must be what they claim: a
   * planted symlink (cmdline -> /etc/shadow, fd -> /) would otherwise make us
   * read the examiner's own machine. Only the link entries (exe, cwd, root,
   * ns/*, fd/*) are symlinks, and those are only ever readlink'd.
   */
  private async savedIs(rel: string, kind: 'file' | 'dir'): Promise<boolean> {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const st = await fsp.lstat(this.path(parts.slice(0, i).join('/')));
      const last = i === parts.length;
      if (!last || kind === 'dir' ? !st.isDirectory() : st.isSymbolicLink()) return false;
    }
    return true;
  }

  /**
   * Follows a magic link of the live procfs (exe) to the file itself. That asks
   * the file's own filesystem (a dead NFS server or FUSE daemon never answers),
   * so it goes through the thread pool, and is given up after SLOW_READ_MS.
   */
  async stat(rel: string): Promise<Outcome<Stats>> {
    if (!this.live) return { ok: false, code: 'ENOTLIVE' };
    if (this.blocked >= MAX_BLOCKED) return { ok: false, code: 'ESKIPPED' };
    try {
      const r = await withDeadline(fsp.stat(this.path(rel)), SLOW_READ_MS);
      if (r === null) this.blocked++;
      return r === null ? { ok: false, code: 'EBLOCKED' } : { ok: true, value: r };
    } catch (err) {
      return fail(err);
    }
  }

  /** Whether /proc/PID answers a direct lookup (live procfs only; synchronous, for the pid probe). */
  answers(pid: number): boolean {
    return existsSync(`${this.root}/${pid}`);
  }
}

/**
 * How a live /proc file is read. seq: until a read returns 0. single: a file
 * the kernel renders as one record (stat, status, cgroup), returned whole by
 * one read when the buffer is big enough, so a short read is the end. slow:
 * cmdline and environ, which can block on the process's memory lock, read
 * through the thread pool (a short read is the end there too).
 */
export type ReadHow = 'seq' | 'single' | 'slow';

/** Scratch buffer for synchronous reads (never shared across an await). */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);
/** Buffers for slow (asynchronous) reads, reused: thousands of 64 KiB allocations would balloon RSS. */
const SLOW_BUFFERS: Buffer[] = [];

/** The promise's value, or null when it has not settled within ms (it goes on; the caller decides what to do with it). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function openAsync(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function readAsync(fd: number, buf: Buffer, length: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, length, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * Read failures summed up per file and cause, so a non-root run does not write
 * one manifest error per process for every unreadable environ. A process that
 * exits mid-read (ENOENT, ESRCH) is plain absence and not recorded.
 */
class Problems {
  private readonly byKey = new Map<string, { file: string; code: string; pids: number[] }>();

  note(file: string, pid: number, code: string): void {
    if (GONE.has(code)) return;
    const key = `${file}\u0000${code}`;
    const p = this.byKey.get(key) ?? { file, code, pids: [] };
    p.pids.push(pid);
    this.byKey.set(key, p);
  }

  flush(ctx: CollectorContext): void {
    for (const p of this.byKey.values()) {
      const shown = p.pids.slice(0, 10).join(', ') + (p.pids.length > 10 ? ', …' : '');
      const path = p.pids.length === 1 ? `/proc/${p.pids[0]}/${p.file}` : `/proc/*/${p.file}`;
      const why = WHY[p.code] ? `${p.code}: ${WHY[p.code]}` : p.code;
      ctx.error(path, p.code, `${p.file} unreadable (${why}) for ${p.pids.length} process(es): pid ${shown}`);
    }
  }
}

const WHY: Record<string, string> = {
  EACCES: 'not root, or the process is protected',
  EBLOCKED: `no answer within ${SLOW_READ_MS / 1000} s: the process's memory is locked (a thread stuck in the kernel, e.g. on a dead NFS server)`,
  ESKIPPED: 'not tried after earlier reads blocked',
};

/** Runs fn over items with at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A small semaphore for work started from many places (hashing). */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const text = (b: Buffer) => encodeHostPath(b);

/** Boot time plus ticks since boot, as UTC; null when unknown or absurd (a hostile saved /proc). */
function startIso(btime: number | null, ticks: number): string | null {
  if (btime === null) return null;
  const d = new Date((btime + ticks / CLK_TCK) * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// ---------------------------------------------------------------------------
// Finding every process: the /proc listing, and on a live kernel two checks
// that do not go through a directory listing (what readdir/getdents hooks
// hide): the children files of every visible thread, walked down, and a
// direct probe of /proc/PID for every pid in range.

export type FoundBy = 'listing' | 'children' | 'probe';

export interface Discovery {
  /** Every process found, ascending. */
  pids: number[];
  listed: Set<number>;
  foundBy: Map<number, Set<FoundBy>>;
  /** Found by a direct check, absent from two listings, older than the first. */
  hidden: number[];
  /** Threads counted in the task directories of every process found. */
  tasksSeen: number;
  /** What the kernel counts (/proc/loadavg), read just before the listing. */
  kernelTasks: number | null;
  lastPid: number | null;
  pidMax: number | null;
  /** The pids looked up directly (live procfs only). */
  probe: { from: number; upTo: number; probed: number; ms: number; complete: boolean } | null;
  /** Uptime in ticks just before the first listing: anything started later is new, not hidden. */
  uptimeTicks: number | null;
}

async function readText(fs: ProcView, rel: string, max = 64 * 1024): Promise<string | null> {
  const r = await fs.read(rel, max);
  return r.ok ? r.value.data.toString('latin1') : null;
}

async function listPids(fs: ProcView): Promise<Set<number> | null> {
  const r = await fs.readdir('');
  return r.ok ? new Set(r.value.filter(isPidName).map(Number)) : null;
}

/**
 * The processes collector's discovery, kept for hidden-processes, which runs
 * right after it in the same triage: the pid probe is the costly part and
 * need not run twice. Used only while fresh; otherwise it is redone.
 */
const recentDiscovery = new WeakMap<object, { at: number; disc: Discovery }>();
const DISCOVERY_FRESH_MS = 60_000;

/** What discovery needs of /proc (an interface, so tests can hide a pid from the listing as a rootkit would). */
export interface ProcView {
  readonly live: boolean;
  read(rel: string, maxBytes: number, how?: ReadHow): Promise<Outcome<{ data: Buffer; truncated: boolean }>>;
  readdir(rel: string): Promise<Outcome<string[]>>;
  answers(pid: number): boolean;
}

export async function discoverProcesses(
  fs: ProcView,
  opts: { probeAll: boolean; signal: AbortSignal; onListed?: (pids: number[]) => Promise<void> },
): Promise<Discovery | null> {
  const uptime = await readText(fs, 'uptime');
  const uptimeSec = uptime === null ? NaN : Number(uptime.split(/\s+/)[0]);
  const load = parseLoadavg((await readText(fs, 'loadavg')) ?? '');
  const pidMaxText = await readText(fs, 'sys/kernel/pid_max');
  const pidMax = pidMaxText !== null && /^\d+\s*$/.test(pidMaxText) ? Number(pidMaxText) : null;
  const listed = await listPids(fs);
  if (listed === null) return null;
  // the caller's first CPU sample runs alongside the slower checks below
  const alongside = opts.onListed?.([...listed].sort((a, b) => a - b));

  const foundBy = new Map<number, Set<FoundBy>>();
  const mark = (pid: number, how: FoundBy) => {
    const s = foundBy.get(pid) ?? new Set<FoundBy>();
    s.add(how);
    foundBy.set(pid, s);
  };
  for (const pid of listed) mark(pid, 'listing');
  const threadsOf = new Map<number, number[]>();
  const knownTids = new Set<number>();

  // threads of listed processes answer a direct lookup too, but are never listed: the probe skips them
  const readTasks = async (pid: number) => {
    const r = await fs.readdir(`${pid}/task`);
    const tids = r.ok ? r.value.filter(isPidName).map(Number) : [];
    threadsOf.set(pid, tids);
    if (listed.has(pid)) for (const t of tids) knownTids.add(t);
  };
  await eachLimited([...listed], WORKERS, readTasks, opts.signal);

  let probe: Discovery['probe'] = null;
  const candidates = new Set<number>();
  if (fs.live) {
    // children of every visible thread, and of whatever that turns up, down the tree
    const queue = [...listed];
    const walked = new Set<number>();
    while (queue.length > 0 && !opts.signal.aborted) {
      const batch = queue.splice(0, queue.length).filter((p) => !walked.has(p));
      for (const p of batch) walked.add(p);
      const jobs: [number, number][] = batch.flatMap((p) => (threadsOf.get(p) ?? [p]).map((t): [number, number] => [p, t]));
      await eachLimited(jobs, WORKERS, async ([pid, tid]) => {
        const t = await readText(fs, `${pid}/task/${tid}/children`, 1024 * 1024);
        for (const c of (t ?? '').split(/\s+/)) {
          if (!isPidName(c)) continue;
          const child = Number(c);
          mark(child, 'children');
          if (!listed.has(child) && !candidates.has(child)) {
            candidates.add(child);
            if (!threadsOf.has(child)) await readTasks(child);
            queue.push(child);
          }
        }
      }, opts.signal);
    }

    // direct lookups of /proc/PID, in chunks so the run can still be stopped
    let highest = load?.lastPid ?? 0;
    for (const set of [knownTids, listed, candidates]) for (const p of set) if (p > highest) highest = p;
    const limit = pidMax ?? highest + PROBE_MARGIN;
    const upTo = opts.probeAll || limit <= PROBE_BUDGET ? limit : Math.min(limit, Math.max(PROBE_BUDGET, highest + PROBE_MARGIN));
    const from = opts.probeAll ? 1 : Math.max(1, upTo - PROBE_BUDGET + 1);
    const started = performance.now();
    let n = from;
    for (; n <= upTo && !opts.signal.aborted; ) {
      const end = Math.min(upTo, n + PROBE_CHUNK - 1);
      for (; n <= end; n++) {
        if (listed.has(n) || knownTids.has(n)) continue;
        if (fs.answers(n)) {
          mark(n, 'probe');
          candidates.add(n);
        }
      }
      await nextTurn();
    }
    probe = { from, upTo, probed: n - from, ms: Math.round(performance.now() - started), complete: n > upTo };
  }

  // A candidate is hidden only if it is a process (not a thread of a listed
  // one), is still missing from a second listing, and was already running at
  // the first: anything else was simply born while we looked.
  const hidden: number[] = [];
  if (candidates.size > 0) {
    const again = (await listPids(fs)) ?? new Set<number>();
    const check = [...candidates].filter((p) => !again.has(p));
    const tooNew = Number.isFinite(uptimeSec) ? Math.floor(uptimeSec * CLK_TCK) : Infinity;
    const confirmed = new Set<number>();
    await eachLimited(check, WORKERS, async (pid) => {
      const status = await readText(fs, `${pid}/status`);
      const tgid = status === null ? null : parseStatus(status).tgid;
      const proc = tgid ?? pid;
      if (listed.has(proc) || again.has(proc) || confirmed.has(proc)) return;
      const st = await fs.read(`${proc}/stat`, 4096, 'single');
      const stat = st.ok ? parseStat(st.value.data) : null;
      if (!stat || stat.startTicks > tooNew) return;
      confirmed.add(proc);
      if (proc !== pid) mark(proc, foundBy.get(pid)?.has('children') ? 'children' : 'probe');
      if (!threadsOf.has(proc)) await readTasks(proc);
    });
    hidden.push(...[...confirmed].sort((a, b) => a - b));
  }
  for (const pid of [...foundBy.keys()]) if (!listed.has(pid) && !hidden.includes(pid)) foundBy.delete(pid);

  await alongside;
  const pids = [...listed, ...hidden].sort((a, b) => a - b);
  let tasksSeen = 0;
  for (const p of pids) tasksSeen += threadsOf.get(p)?.length ?? 0;
  return {
    pids,
    listed,
    foundBy,
    hidden,
    tasksSeen,
    kernelTasks: load?.tasks ?? null,
    lastPid: load?.lastPid ?? null,
    pidMax,
    probe,
    uptimeTicks: Number.isFinite(uptimeSec) ? Math.floor(uptimeSec * CLK_TCK) : null,
  };
}

// ---------------------------------------------------------------------------
// The processes collector.

const nsField = (ns: NsName) => z.number().int().nullable().describe(`inode of the ${ns} namespace (/proc/PID/ns/${ns}); equal numbers mean the same namespace`);

const Row = z.object({
  pid: z.number().int().describe('process id (thread group id)'),
  ppid: z.number().int().nullable().describe('parent process id; null when /proc/PID/stat could not be read'),
  ancestry: z.array(z.number().int()).describe('the process tree as a chain: parent, grandparent, … up to pid 1 or 2 (or the first parent not found)'),
  depth: z.number().int().describe('number of ancestors in that chain'),
  listed: z.boolean().describe('the pid appeared in the /proc directory listing; false means it was found only by a direct lookup or in a parent\'s children list — hidden from directory listings'),
  foundBy: z.array(z.enum(['listing', 'children', 'probe'])).describe('how the process was found: /proc listing, a parent thread\'s children file, a direct lookup of /proc/PID'),
  kernelThread: z.boolean().nullable().describe('the kernel marks it as its own thread (PF_KTHREAD). A user process can name itself [kworker/0:1] but cannot set this flag'),
  comm: z.string().nullable().describe('command name (16 bytes at most, set by the process itself; invalid UTF-8 as %XX)'),
  commBase64: z.string().nullable().describe('raw comm bytes in base64, when not valid UTF-8'),
  state: z.string().nullable().describe('R running, S sleeping, D uninterruptible, Z zombie, T stopped, t traced, I idle kernel thread, X dead'),
  argv: z.array(z.string()).describe('arguments from /proc/PID/cmdline, split at NUL (invalid UTF-8 as %XX); empty for kernel threads and zombies. A process can rewrite its own'),
  cmdlineBase64: z.string().nullable().describe('the raw NUL-separated cmdline in base64, when some argument is not valid UTF-8'),
  cmdlineTruncated: z.boolean().describe('cmdline was longer than 1 MiB and was cut'),
  uid: z.number().int().nullable().describe('real user id'),
  euid: z.number().int().nullable().describe('effective user id (differs from uid in set-uid programs)'),
  gid: z.number().int().nullable().describe('real group id'),
  egid: z.number().int().nullable().describe('effective group id'),
  user: z.string().nullable().describe('name of uid in the examined host\'s /etc/passwd (processes in containers use their own)'),
  euser: z.string().nullable().describe('name of euid in the examined host\'s /etc/passwd'),
  group: z.string().nullable().describe('name of gid in the examined host\'s /etc/group'),
  egroup: z.string().nullable().describe('name of egid in the examined host\'s /etc/group'),
  exe: z.string().nullable().describe('executable path (/proc/PID/exe link) without the kernel\'s " (deleted)" suffix; /memfd:NAME for code run from memory; null for kernel threads, zombies, or when unreadable'),
  exeBase64: z.string().nullable().describe('raw exe link bytes in base64, when not valid UTF-8'),
  exeDeleted: z.boolean().nullable().describe('the executable was deleted (or replaced) after the process started: link count 0, or the " (deleted)" suffix'),
  exeMemfd: z.boolean().describe('the executable is an anonymous memory file (memfd_create): fileless code'),
  exeSha256: z.string().nullable().describe('SHA-256 of the executable, read through /proc/PID/exe, so a deleted binary is still hashed'),
  exeHashSource: z.enum(['proc-exe', 'image-file']).nullable().describe('proc-exe: the running file itself; image-file: the file at that path in --root (a saved /proc has no open file)'),
  exeSize: z.number().int().nullable().describe('size in bytes of the executable'),
  exeDevice: z.string().nullable().describe('device (major:minor) of the executable\'s filesystem'),
  exeInode: z.number().int().nullable().describe('inode of the executable'),
  exeCopy: z.string().nullable().describe('where a copy of the deleted executable is in the bundle (--copy-deleted)'),
  cwd: z.string().nullable().describe('current working directory (/proc/PID/cwd link)'),
  cwdBase64: z.string().nullable().describe('raw cwd bytes in base64, when not valid UTF-8'),
  root: z.string().nullable().describe('root directory (/proc/PID/root link); not "/" for chrooted or containerised processes'),
  rootBase64: z.string().nullable().describe('raw root bytes in base64, when not valid UTF-8'),
  startTime: z.string().nullable().describe('UTC start time: boot time plus stat field 22 (ticks of 1/100 s); second precision of btime'),
  startTicks: z.number().int().nullable().describe('start time in ticks after boot (with pid, identifies the process across reads: a reused pid has another)'),
  cpuPercent: z.number().nullable().describe(`CPU use over a ${SAMPLE_MS} ms sample, percent of one core (a busy multithreaded process can exceed 100); null on a saved /proc`),
  cpuSeconds: z.number().nullable().describe('user plus system CPU time used since start, in seconds'),
  rssBytes: z.number().int().nullable().describe('resident memory (VmRSS); null for kernel threads and zombies'),
  threads: z.number().int().nullable().describe('number of threads'),
  tty: z.number().int().nullable().describe('controlling terminal device number (0 for none)'),
  pgid: z.number().int().nullable().describe('process group id'),
  sid: z.number().int().nullable().describe('session id'),
  fdCount: z.number().int().nullable().describe('number of open file descriptors; null when /proc/PID/fd is unreadable'),
  socketInodes: z.array(z.number().int()).nullable().describe('inodes of the sockets it holds open (fd links socket:[N]); join with the network collector\'s inode'),
  nsCgroup: nsField('cgroup'),
  nsIpc: nsField('ipc'),
  nsMnt: nsField('mnt'),
  nsNet: nsField('net'),
  nsPid: nsField('pid'),
  nsTime: nsField('time'),
  nsUser: nsField('user'),
  nsUts: nsField('uts'),
  nsDiffering: z.array(z.enum(NAMESPACES)).describe('namespaces that differ from the reference process (PID 1, or kthreadd when PID 1\'s cannot be read). systemd services often have their own mnt or uts'),
  inContainer: z.boolean().nullable().describe('its pid namespace differs from the reference process\'s (every container runtime gives one by default); null when unknown'),
  nsPids: z.array(z.number().int()).describe('its pid in each nested pid namespace, outermost first (status NSpid); the last is the pid a container sees'),
  cgroup: z.string().nullable().describe('cgroup path (the unified hierarchy, else systemd\'s); names the service or container (docker-ID.scope)'),
  capEff: z.string().nullable().describe('effective capabilities, hex bit mask (CapEff)'),
  capPrm: z.string().nullable().describe('permitted capabilities, hex bit mask (CapPrm)'),
  capBnd: z.string().nullable().describe('capability bounding set, hex bit mask (CapBnd)'),
  ldPreload: z.array(z.string()).nullable().describe('every LD_PRELOAD value in its initial environment, in order (the loader uses the last); null when environ is unreadable'),
  ldLibraryPath: z.array(z.string()).nullable().describe('every LD_LIBRARY_PATH value in its initial environment, in order; null when environ is unreadable'),
  ldEnvBase64: z.string().nullable().describe('those NAME=value entries raw (NUL-separated) in base64, when not valid UTF-8'),
  notes: z.array(z.string()).describe('what could not be read and why, or changed while reading (exited, pid reused, truncated)'),
});

type ProcessRow = z.infer<typeof Row>;

interface Sample {
  stat: ProcStat;
  at: number;
}

interface HashResult {
  sha256: string | null;
  source: 'proc-exe' | 'image-file' | null;
  note: string | null;
}

const devString = (dev: number) => {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
};

async function sha256Of(path: string, expect: Stats | null, signal: AbortSignal): Promise<{ sha256: string | null; code: string | null }> {
  let fh: fsp.FileHandle | undefined;
  try {
    // opening asks the file's own filesystem too: given up like a read that does not return
    const opening = (async () => {
      const h = await fsp.open(path, C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY);
      try {
        return { h, st: await h.stat() };
      } catch (err) {
        await h.close();
        throw err;
      }
    })();
    const opened = await withDeadline(opening, HASH_READ_MS);
    if (opened === null) {
      void opening.then(({ h }) => h.close(), () => undefined);
      return { sha256: null, code: 'EBLOCKED' };
    }
    fh = opened.h;
    const st = opened.st;
    if (!st.isFile()) return { sha256: null, code: 'ENOTREG' };
    if (expect && (st.ino !== expect.ino || st.dev !== expect.dev)) return { sha256: null, code: 'ERACE' };
    const r = await hashHandle(fh, st.size, signal);
    if (r.detached) fh = undefined;
    return r;
  } catch (err) {
    return { sha256: null, code: fail(err).code };
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** A read of an executable (1 MiB) that takes longer than this is given up: its filesystem does not answer. */
const HASH_READ_MS = 15_000;

/**
 * Hashes an open file. `detached` means a read never returned and was given
 * up: the handle is then closed when (if ever) that read returns, not by the caller.
 */
async function hashHandle(fh: fsp.FileHandle, size: number, signal: AbortSignal): Promise<{ sha256: string | null; code: string | null; detached?: boolean }> {
  if (size > MAX_HASH_BYTES) return { sha256: null, code: 'EFBIG' };
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  try {
    for (;;) {
      if (signal.aborted) return { sha256: null, code: 'EABORTED' };
      const pending = fh.read(buf, 0, buf.length, null);
      const r = await withDeadline(pending, HASH_READ_MS);
      if (r === null) {
        void pending.finally(() => fh.close()).catch(() => undefined);
        return { sha256: null, code: 'EBLOCKED', detached: true };
      }
      if (r.bytesRead === 0) break;
      hash.update(buf.subarray(0, r.bytesRead));
    }
  } catch (err) {
    return { sha256: null, code: fail(err).code };
  }
  return { sha256: hash.digest('hex'), code: null };
}

/** Hashes each distinct executable once, and copies each deleted one once. */
class Executables {
  private readonly hashes = new Map<string, Promise<HashResult>>();
  private readonly copies = new Map<string, Promise<string | null>>();
  private readonly limiter = new Limiter(HASHERS);

  constructor(
    private readonly ctx: CollectorContext,
    private readonly fs: ProcFs,
  ) {}

  /** The running file, through the live /proc/PID/exe link. */
  throughProc(pid: number, st: Stats): Promise<HashResult> {
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    let p = this.hashes.get(key);
    if (!p) {
      p = this.limiter.run(async () => {
        if (this.fs.blocked >= MAX_BLOCKED) return { sha256: null, source: null, note: 'exe hash: ESKIPPED (earlier reads blocked)' };
        const r = await sha256Of(this.fs.path(`${pid}/exe`), st, this.ctx.signal);
        if (r.code === 'EBLOCKED') this.fs.blocked++;
        return { sha256: r.sha256, source: r.sha256 ? ('proc-exe' as const) : null, note: r.code ? `exe hash: ${r.code}` : null };
      });
      this.hashes.set(key, p);
    }
    return p;
  }

  /** The file at the exe path inside --root, for a saved /proc (it has no open file to read). */
  inImage(exePath: string): Promise<HashResult> {
    let p = this.hashes.get(`image:${exePath}`);
    if (!p) {
      p = this.limiter.run(async () => {
        let file;
        try {
          file = await this.ctx.host.openFile(exePath);
        } catch (err) {
          const code = fail(err).code;
          return { sha256: null, source: null, note: code === 'ENOENT' ? null : `exe hash: ${code}` };
        }
        const r = await hashHandle(file.fh, file.facts.size, this.ctx.signal);
        if (!r.detached) await file.fh.close().catch(() => undefined);
        return { sha256: r.sha256, source: r.sha256 ? ('image-file' as const) : null, note: r.code ? `exe hash: ${r.code}` : null };
      });
      this.hashes.set(`image:${exePath}`, p);
    }
    return p;
  }

  /** Copies a deleted executable into the bundle from /proc/PID/exe; the bundle path, or null. */
  copyDeleted(pid: number, st: Stats): Promise<string | null> {
    const key = `${st.dev}:${st.ino}`;
    let p = this.copies.get(key);
    if (!p) {
      const hostPath = `/proc/${pid}/exe`;
      p = this.limiter.run(async () => ((await this.ctx.copyFile(hostPath, { maxBytes: MAX_COPY_BYTES })) ? bundlePathForHostFile(hostPath) : null));
      this.copies.set(key, p);
    }
    return p;
  }
}

interface Names {
  users: Map<number, string>;
  groups: Map<number, string>;
}

/** User and group names from the examined host's own files (not this machine's, under --root). */
async function loadNames(ctx: CollectorContext): Promise<Names> {
  const pw = await ctx.read('/etc/passwd', { keep: false, maxBytes: 16 * 1024 * 1024 });
  const gr = await ctx.read('/etc/group', { keep: false, maxBytes: 16 * 1024 * 1024 });
  const groups = new Map<number, string>();
  for (const g of gr ? parseGroup(gr.data.toString('utf8')).entries : []) if (!groups.has(g.gid)) groups.set(g.gid, g.name);
  return { users: pw ? userNames(parsePasswd(pw.data.toString('utf8')).entries) : new Map(), groups };
}

type NsIds = Partial<Record<NsName, number>>;

async function readNamespaces(fs: ProcFs, pid: number, onError?: (file: string, code: string) => void): Promise<NsIds> {
  const ids: NsIds = {};
  const codes = new Set<string>();
  await Promise.all(
    NAMESPACES.map(async (n) => {
      const r = await fs.readlink(`${pid}/ns/${n}`);
      if (!r.ok) return void codes.add(r.code);
      const id = parseNsLink(r.value.toString('latin1'), n);
      if (id !== null) ids[n] = id;
    }),
  );
  for (const code of codes) onError?.('ns', code);
  return ids;
}

/** The namespaces to compare with: PID 1's, filled in from kthreadd's (always the initial ones) where PID 1's cannot be read. */
async function referenceNamespaces(fs: ProcFs, first: Map<number, Sample>): Promise<NsIds> {
  const ref = await readNamespaces(fs, 1);
  const two = first.get(2)?.stat;
  if (NAMESPACES.some((n) => ref[n] === undefined) && two && (two.flags & PF_KTHREAD) !== 0) {
    const k = await readNamespaces(fs, 2);
    for (const n of NAMESPACES) ref[n] ??= k[n];
  }
  return ref;
}

function emptyRow(pid: number): ProcessRow {
  return {
    pid,
    ppid: null,
    ancestry: [],
    depth: 0,
    listed: true,
    foundBy: [],
    kernelThread: null,
    comm: null,
    commBase64: null,
    state: null,
    argv: [],
    cmdlineBase64: null,
    cmdlineTruncated: false,
    uid: null,
    euid: null,
    gid: null,
    egid: null,
    user: null,
    euser: null,
    group: null,
    egroup: null,
    exe: null,
    exeBase64: null,
    exeDeleted: null,
    exeMemfd: false,
    exeSha256: null,
    exeHashSource: null,
    exeSize: null,
    exeDevice: null,
    exeInode: null,
    exeCopy: null,
    cwd: null,
    cwdBase64: null,
    root: null,
    rootBase64: null,
    startTime: null,
    startTicks: null,
    cpuPercent: null,
    cpuSeconds: null,
    rssBytes: null,
    threads: null,
    tty: null,
    pgid: null,
    sid: null,
    fdCount: null,
    socketInodes: null,
    nsCgroup: null,
    nsIpc: null,
    nsMnt: null,
    nsNet: null,
    nsPid: null,
    nsTime: null,
    nsUser: null,
    nsUts: null,
    nsDiffering: [],
    inContainer: null,
    nsPids: [],
    cgroup: null,
    capEff: null,
    capPrm: null,
    capBnd: null,
    ldPreload: null,
    ldLibraryPath: null,
    ldEnvBase64: null,
    notes: [],
  };
}

const FOUND_ORDER: FoundBy[] = ['listing', 'children', 'probe'];

interface Pending {
  row: ProcessRow;
  sample: Sample | null;
  hash: Promise<HashResult> | null;
  copy: Promise<string | null> | null;
}

/** Everything about one process except what waits for the second CPU sample and the hash. */
async function readProcess(
  fs: ProcFs,
  ctx: CollectorContext,
  pid: number,
  sample: Sample,
  env: { names: Names; btime: number | null; refNs: NsIds; exes: Executables; problems: Problems },
): Promise<Pending> {
  const row = emptyRow(pid);
  const note = (file: string, code: string) => {
    if (GONE.has(code)) return;
    row.notes.push(`${file}: ${code}`);
    env.problems.note(file, pid, code);
  };
  const { stat } = sample;
  const comm = text(stat.comm);
  Object.assign(row, {
    ppid: stat.ppid,
    kernelThread: (stat.flags & PF_KTHREAD) !== 0,
    comm: comm.text,
    commBase64: comm.base64 ?? null,
    state: stat.state,
    startTicks: stat.startTicks,
    startTime: startIso(env.btime, stat.startTicks),
    cpuSeconds: (stat.utime + stat.stime) / CLK_TCK,
    threads: stat.numThreads,
    tty: stat.ttyNr,
    pgid: stat.pgrp,
    sid: stat.session,
  });

  const status = async () => {
    const r = await fs.read(`${pid}/status`, 64 * 1024, 'single');
    if (!r.ok) return note('status', r.code);
    const s = parseStatus(r.value.data.toString('latin1'));
    const [uid, euid] = s.uids;
    const [gid, egid] = s.gids;
    Object.assign(row, {
      uid: uid ?? null,
      euid: euid ?? null,
      gid: gid ?? null,
      egid: egid ?? null,
      user: uid === undefined ? null : (env.names.users.get(uid) ?? null),
      euser: euid === undefined ? null : (env.names.users.get(euid) ?? null),
      group: gid === undefined ? null : (env.names.groups.get(gid) ?? null),
      egroup: egid === undefined ? null : (env.names.groups.get(egid) ?? null),
      nsPids: s.nsPids,
      threads: s.threads ?? row.threads,
      rssBytes: s.rssBytes,
      capEff: s.capEff,
      capPrm: s.capPrm,
      capBnd: s.capBnd,
    });
  };

  const cmdline = async () => {
    const r = await fs.read(`${pid}/cmdline`, MAX_CMDLINE, 'slow');
    if (!r.ok) return note('cmdline', r.code);
    const args = splitCmdline(r.value.data).map(text);
    row.argv = args.map((a) => a.text);
    if (args.some((a) => a.base64 !== undefined)) row.cmdlineBase64 = r.value.data.toString('base64');
    if (r.value.truncated) {
      row.cmdlineTruncated = true;
      row.notes.push(`cmdline: truncated at ${MAX_CMDLINE} bytes`);
    }
  };

  const environ = async () => {
    const scanner = new EnvironScanner(LD_VARS);
    const r = await fs.scan(`${pid}/environ`, MAX_ENVIRON, (c) => scanner.feed(c), 'slow');
    if (!r.ok) return note('environ', r.code);
    const pick = scanner.end();
    row.ldPreload = pick.values.get('LD_PRELOAD')!.map((v) => text(v).text);
    row.ldLibraryPath = pick.values.get('LD_LIBRARY_PATH')!.map((v) => text(v).text);
    if (pick.entries.some((e) => text(e).base64 !== undefined)) row.ldEnvBase64 = Buffer.concat(pick.entries.flatMap((e) => [e, Buffer.alloc(1)])).toString('base64');
    if (r.value.truncated) row.notes.push(`environ: scanned only the first ${MAX_ENVIRON} bytes`);
    if (pick.truncated) row.notes.push('environ: an LD_ variable longer than 64 KiB was cut');
  };

  let hash: Promise<HashResult> | null = null;
  let copy: Promise<string | null> | null = null;
  const exe = async () => {
    const [link, st] = await Promise.all([fs.readlink(`${pid}/exe`), fs.stat(`${pid}/exe`)]);
    if (!link.ok) return note('exe', link.code);
    const file = st.ok && st.value.isFile() ? st.value : null;
    const parsed = parseExeLink(link.value, file ? file.nlink : null);
    const shown = text(parsed.path);
    row.exe = shown.text;
    row.exeBase64 = shown.base64 ?? null;
    row.exeMemfd = parsed.memfd;
    row.exeDeleted = file ? file.nlink === 0 : parsed.deletedSuffix;
    if (file) {
      row.exeSize = file.size;
      row.exeDevice = devString(file.dev);
      row.exeInode = file.ino;
      hash = env.exes.throughProc(pid, file);
      if (row.exeDeleted && ctx.settings.copyDeleted && ctx.host.live) copy = env.exes.copyDeleted(pid, file);
    } else if (st.ok === false && st.code !== 'ENOTLIVE') {
      note('exe (stat)', st.code);
    } else if (!fs.live && ctx.host.root !== '/' && !parsed.deletedSuffix && !parsed.memfd && shown.base64 === undefined && shown.text.startsWith('/')) {
      hash = env.exes.inImage(shown.text);
    }
  };

  const link = async (name: 'cwd' | 'root') => {
    const r = await fs.readlink(`${pid}/${name}`);
    if (!r.ok) return note(name, r.code);
    const t = text(r.value);
    row[name] = t.text;
    row[`${name}Base64`] = t.base64 ?? null;
  };

  const namespaces = async () => {
    const ids = await readNamespaces(fs, pid, note);
    for (const n of NAMESPACES) row[`ns${n[0]!.toUpperCase()}${n.slice(1)}` as 'nsNet'] = ids[n] ?? null;
    row.nsDiffering = NAMESPACES.filter((n) => ids[n] !== undefined && env.refNs[n] !== undefined && ids[n] !== env.refNs[n]);
    row.inContainer = ids.pid !== undefined && env.refNs.pid !== undefined ? ids.pid !== env.refNs.pid : null;
  };

  const cgroup = async () => {
    const r = await fs.read(`${pid}/cgroup`, 256 * 1024, 'single');
    if (!r.ok) return note('cgroup', r.code);
    const p = parseCgroup(r.value.data.toString('latin1')).path;
    row.cgroup = p === null ? null : text(Buffer.from(p, 'latin1')).text;
  };

  const fds = async () => {
    const r = await fs.readdir(`${pid}/fd`);
    if (!r.ok) return note('fd', r.code);
    row.fdCount = r.value.length;
    const sockets: number[] = [];
    const names = r.value.length > MAX_FDS ? r.value.slice(0, MAX_FDS) : r.value;
    if (names.length < r.value.length) row.notes.push(`fd: only the first ${MAX_FDS} descriptors were looked at`);
    let denied: string | null = null;
    let read = 0;
    await eachLimited(names, 4, async (fd) => {
      const l = await fs.readlink(`${pid}/fd/${fd}`);
      if (!l.ok) {
        if (!GONE.has(l.code)) denied = l.code;
        return;
      }
      read++;
      const ino = socketInode(l.value.toString('latin1'));
      if (ino !== null) sockets.push(ino);
    }, ctx.signal);
    if (denied !== null) note('fd links', denied);
    row.socketInodes = denied !== null && read === 0 ? null : sockets.sort((a, b) => a - b);
  };

  await Promise.all([status(), cmdline(), environ(), exe(), link('cwd'), link('root'), namespaces(), cgroup(), fds()]);
  return { row, sample, hash, copy };
}

export const processesCollector = defineCollector({
  name: 'processes',
  title: 'Running processes',
  description:
    'Every process, read from /proc directly (never ps): ids and owners, command line byte for byte, the executable with ' +
    'its SHA-256 read through /proc/PID/exe (a deleted binary is still hashed, and with --copy-deleted copied into the ' +
    'bundle), working and root directories, start time, CPU use over a short sample, memory, open descriptors and the ' +
    'inodes of the sockets they hold, namespaces, cgroup, capabilities, and LD_PRELOAD / LD_LIBRARY_PATH from the initial ' +
    'environment (no other variable is kept). Processes hidden from the /proc listing are rows too, with listed=false. ' +
    'Look for deleted or memfd executables, executables or working directories under /tmp, /dev/shm or /var/tmp, a shell ' +
    'whose parent is a web server or database, kernel-thread names ([kworker/…]) without kernelThread, LD_PRELOAD, ' +
    'unexpected capabilities, and processes outside every container and service cgroup.',
  preconditions:
    'A live host, or --proc DIR with a saved /proc (no CPU sample, no hash unless --root holds the executables). Run as root ' +
    'for everything: otherwise other users\' exe, cwd, fd, ns and environ are unreadable (noted in each row and summed up in ' +
    'the manifest). With --root and no --proc there are no processes and the collector yields nothing.',
  timeoutMs: 60_000,
  row: Row,
  async *collect(ctx) {
    const fs = await ProcFs.open(ctx);
    if (!fs) return;
    // first CPU sample (and the snapshot every row is built from), for all processes at once
    const first = new Map<number, Sample>();
    const unreadable = new Map<number, { gone: boolean; why: string }>();
    const sample = (pids: number[]) =>
      eachLimited(pids, WORKERS, async (pid) => {
        const r = await fs.read(`${pid}/stat`, 4096, 'single');
        const at = performance.now();
        const stat = r.ok ? parseStat(r.value.data) : null;
        if (stat && stat.pid === pid) first.set(pid, { stat, at });
        else if (!r.ok) unreadable.set(pid, { gone: GONE.has(r.code), why: `stat: ${r.code}` });
        else unreadable.set(pid, { gone: false, why: stat ? `stat: names pid ${stat.pid}, not ${pid} (is /proc/${pid} covered by a mount?)` : 'stat: does not parse' });
      }, ctx.signal);
    const disc = await discoverProcesses(fs, { probeAll: ctx.settings.deep, signal: ctx.signal, onListed: sample });
    if (!disc) {
      ctx.error('/proc', 'EREAD', 'the /proc directory could not be listed');
      return;
    }
    await sample(disc.hidden);
    recentDiscovery.set(ctx.host, { at: Date.now(), disc });
    const problems = new Problems();
    const btime = parseBtime((await readText(fs, 'stat')) ?? '');
    const names = await loadNames(ctx);
    const parentOf = new Map([...first].map(([pid, s]) => [pid, s.stat.ppid]));
    const refNs = await referenceNamespaces(fs, first);
    const env = { names, btime, refNs, exes: new Executables(ctx, fs), problems };

    const slots = disc.pids.map(() => deferred<Pending | null>());
    const work = eachLimited(disc.pids.map((pid, i) => [pid, i] as const), WORKERS, async ([pid, i]) => {
      const sample = first.get(pid);
      try {
        if (sample) return slots[i]!.resolve(await readProcess(fs, ctx, pid, sample, env));
        const u = unreadable.get(pid) ?? { gone: true, why: 'stat: not read' };
        // gone is gone; but a pid that still answers and whose stat cannot be read is a row of its own
        if (u.gone && (!fs.live || !fs.answers(pid))) return slots[i]!.resolve(null);
        const row = emptyRow(pid);
        row.notes.push(u.why);
        slots[i]!.resolve({ row, sample: null, hash: null, copy: null });
      } catch (err) {
        ctx.error(`/proc/${pid}`, 'EPROC', `reading the process failed: ${err instanceof Error ? err.message : String(err)}`);
        slots[i]!.resolve(null);
      }
    }, ctx.signal).finally(() => {
      for (const s of slots) s.resolve(null);
    });

    for (let i = 0; i < disc.pids.length && !ctx.signal.aborted; i++) {
      const p = await slots[i]!.promise;
      if (!p) continue;
      const { row, sample } = p;
      const how = disc.foundBy.get(row.pid);
      row.listed = disc.listed.has(row.pid);
      row.foundBy = FOUND_ORDER.filter((f) => how?.has(f));
      row.ancestry = ancestry(row.pid, parentOf);
      row.depth = row.ancestry.length;
      if (p.hash) {
        const h = await p.hash;
        row.exeSha256 = h.sha256;
        row.exeHashSource = h.source;
        if (h.note) row.notes.push(h.note);
      }
      if (p.copy) row.exeCopy = await p.copy;
      if (sample && fs.live) {
        const wait = sample.at + SAMPLE_MS - performance.now();
        if (wait > 0) await sleep(wait);
        const r = await fs.read(`${row.pid}/stat`, 4096, 'single');
        const at = performance.now();
        const again = r.ok ? parseStat(r.value.data) : null;
        if (!again || again.pid !== row.pid) {
          row.notes.push('exited during collection');
        } else if (again.startTicks !== sample.stat.startTicks) {
          row.notes.push('pid reused during collection (start time changed): some details may be of the new process');
        } else {
          const ticks = again.utime + again.stime - (sample.stat.utime + sample.stat.stime);
          row.cpuPercent = Math.round((ticks / CLK_TCK / ((at - sample.at) / 1000)) * 1000) / 10;
          row.cpuSeconds = (again.utime + again.stime) / CLK_TCK;
        }
      }
      yield row;
    }
    await work;
    problems.flush(ctx);
  },
});

// ---------------------------------------------------------------------------
// The hidden-processes collector: the evidence of hiding, as facts.

const HiddenRow = z.object({
  kind: z
    .enum(['check', 'unlisted-process', 'proc-mount', 'ld-so-preload', 'goldhour-library'])
    .describe(
      'check: what was compared and how far (one row on a live host); unlisted-process: a process that answers a direct ' +
        'lookup or is in its parent\'s children list but is missing from the /proc listing; proc-mount: a mount on /proc/PID ' +
        '(hides that process or fakes its files); ld-so-preload: /etc/ld.so.preload is not empty; goldhour-library: a ' +
        'shared library mapped into goldhour\'s own process',
    ),
  detail: z.string().describe('the fact in one sentence'),
  pid: z.number().int().nullable().describe('the process concerned (unlisted-process, proc-mount)'),
  foundBy: z.array(z.enum(['listing', 'children', 'probe'])).describe('unlisted-process: how it was found (children file of a visible parent thread, direct lookup of /proc/PID)'),
  ppid: z.number().int().nullable().describe('unlisted-process: parent pid'),
  uid: z.number().int().nullable().describe('unlisted-process: real user id'),
  comm: z.string().nullable().describe('unlisted-process: command name (invalid UTF-8 as %XX)'),
  exe: z.string().nullable().describe('unlisted-process: executable (/proc/PID/exe link, as the kernel shows it)'),
  startTime: z.string().nullable().describe('unlisted-process: UTC start time'),
  path: z.string().nullable().describe('proc-mount: the mount point; ld-so-preload: /etc/ld.so.preload; goldhour-library: the mapped file'),
  mountSource: z.string().nullable().describe('proc-mount: what is mounted there'),
  fsType: z.string().nullable().describe('proc-mount: its filesystem type'),
  mountRoot: z.string().nullable().describe('proc-mount: the directory of that filesystem mounted (another /proc/PID for a bind of a decoy process)'),
  entries: z.array(z.string()).describe('ld-so-preload: the libraries it names, parsed as the loader does; goldhour-library: what names it (ld.so.preload, LD_PRELOAD)'),
  content: z.string().nullable().describe('ld-so-preload: the whole file as text (invalid UTF-8 as %XX; the preload collector keeps the raw copy)'),
  contentBase64: z.string().nullable().describe('ld-so-preload: the file in base64, when not valid UTF-8'),
  loadedIntoGoldhour: z.boolean().nullable().describe('ld-so-preload: some library it names is mapped into goldhour itself (what goldhour read through libc may be filtered); null off a live host'),
  pidMax: z.number().int().nullable().describe('check: /proc/sys/kernel/pid_max'),
  probedFrom: z.number().int().nullable().describe('check: first pid looked up directly'),
  probedUpTo: z.number().int().nullable().describe('check: last pid looked up directly (all of pid_max only with --deep when it is large)'),
  probeMs: z.number().int().nullable().describe('check: how long the direct lookups took'),
  probeComplete: z.boolean().nullable().describe('check: the lookups covered the whole range (false when stopped by the time limit)'),
  processesListed: z.number().int().nullable().describe('check: processes in the /proc listing'),
  processesHidden: z.number().int().nullable().describe('check: processes found only by the direct checks'),
  tasksSeen: z.number().int().nullable().describe('check: threads counted in the task directories of every process found'),
  kernelTasks: z.number().int().nullable().describe('check: threads the kernel counts (/proc/loadavg); a steady gap is tasks hidden from both listings (processes come and go while counting)'),
});

type HiddenRowT = z.infer<typeof HiddenRow>;

function hiddenRow(kind: HiddenRowT['kind'], detail: string): HiddenRowT {
  return {
    kind,
    detail,
    pid: null,
    foundBy: [],
    ppid: null,
    uid: null,
    comm: null,
    exe: null,
    startTime: null,
    path: null,
    mountSource: null,
    fsType: null,
    mountRoot: null,
    entries: [],
    content: null,
    contentBase64: null,
    loadedIntoGoldhour: null,
    pidMax: null,
    probedFrom: null,
    probedUpTo: null,
    probeMs: null,
    probeComplete: null,
    processesListed: null,
    processesHidden: null,
    tasksSeen: null,
    kernelTasks: null,
  };
}

/** Files mapped into goldhour's own process, read from the real /proc/self (live host only). */
async function ownMappedFiles(): Promise<string[] | null> {
  try {
    return mappedFiles(await fsp.readFile('/proc/self/maps', 'utf8'));
  } catch {
    return null;
  }
}

export const hiddenProcessesCollector = defineCollector({
  name: 'hidden-processes',
  title: 'Signs of hidden processes',
  description:
    'What hides processes, checked without trusting a directory listing: pids that answer a direct lookup of /proc/PID or ' +
    'appear in a parent\'s children file but are missing from the /proc listing (what getdents hooks of kernel rootkits ' +
    'hide, and readdir hooks of LD_PRELOAD rootkits where they reach goldhour), mounts over /proc/PID (a bind mount hides a process or shows a decoy\'s files), a ' +
    'non-empty /etc/ld.so.preload (its libraries load into every dynamically linked program, goldhour included: what ' +
    'goldhour itself read through libc may then be filtered), and the shared libraries mapped into goldhour\'s own ' +
    'process. The check row says how far the pid probe reached. Full details of each unlisted process are in the ' +
    'processes rows with listed=false.',
  preconditions:
    'Pid checks and goldhour\'s own libraries need the live host (a saved /proc only shows what its copier listed). Mounts ' +
    'need /proc (live or --proc). /etc/ld.so.preload is read on the live host and on --root.',
  timeoutMs: 60_000,
  row: HiddenRow,
  async *collect(ctx) {
    const fs = await ProcFs.open(ctx);
    // goldhour's own process says something about the examined host only when that host is this one
    const own = ctx.host.live && fs?.live ? await ownMappedFiles() : null;

    // /etc/ld.so.preload: the row holds it byte for byte; the preload collector keeps the raw copy
    const preload = await ctx.read('/etc/ld.so.preload', { maxBytes: 1024 * 1024, keep: false });
    const preloadEntries = preload ? parseLdSoPreload(preload.data) : [];
    if (preload && preload.data.toString('latin1').trim() !== '') {
      const shown = text(preload.data);
      const row = hiddenRow('ld-so-preload', `/etc/ld.so.preload names ${preloadEntries.length} librar${preloadEntries.length === 1 ? 'y' : 'ies'}, loaded into every dynamically linked program`);
      row.path = '/etc/ld.so.preload';
      row.entries = preloadEntries.map((e) => text(e).text);
      row.content = shown.text;
      row.contentBase64 = shown.base64 ?? null;
      if (own) {
        const mapped = new Set(own);
        let loaded = false;
        for (const e of preloadEntries) {
          const p = e.toString('utf8');
          const real = await fsp.realpath(p).catch(() => p);
          if (mapped.has(p) || mapped.has(real)) loaded = true;
        }
        row.loadedIntoGoldhour = loaded;
      }
      yield row;
    }

    if (own) {
      const envPreload = (process.env.LD_PRELOAD ?? '').split(/[ :]+/).filter(Boolean);
      const resolved = async (names: string[]) => new Set((await Promise.all(names.map(async (n) => [n, await fsp.realpath(n).catch(() => n)]))).flat());
      const fromFile = await resolved(preloadEntries.map((e) => e.toString('utf8')));
      const fromEnv = await resolved(envPreload);
      for (const file of own) {
        if (!/\.so(\.|$)/.test(file.replace(/ \(deleted\)$/, ''))) continue;
        const row = hiddenRow('goldhour-library', `${file} is mapped into goldhour's own process`);
        row.path = file;
        if (fromFile.has(file)) row.entries.push('ld.so.preload');
        if (fromEnv.has(file)) row.entries.push('LD_PRELOAD');
        yield row;
      }
    }

    if (!fs) return;

    // mounts on /proc/PID, as PID 1 and goldhour itself see them (they differ inside containers and private namespaces)
    const seen = new Set<string>();
    for (const who of fs.live ? ['1', 'self'] : ['1']) {
      const mi = await fs.read(`${who}/mountinfo`, 16 * 1024 * 1024);
      if (!mi.ok) continue;
      for (const m of parseMountinfo(mi.value.data.toString('utf8')).mounts) {
        const hit = m.mountPoint.match(/^\/proc\/(\d+)(\/|$)/);
        const key = `${m.mountPoint}\u0000${m.device}\u0000${m.root}`;
        if (!hit || seen.has(key)) continue;
        seen.add(key);
        const row = hiddenRow('proc-mount', `${m.fsType} ${m.source}${m.root === '/' ? '' : ` (${m.root})`} is mounted on ${m.mountPoint}${who === 'self' ? ' (in goldhour\'s mount namespace)' : ''}`);
        row.pid = Number(hit[1]);
        row.path = m.mountPoint;
        row.mountSource = m.source;
        row.fsType = m.fsType;
        row.mountRoot = m.root;
        yield row;
      }
    }

    if (!fs.live) return;
    const cached = recentDiscovery.get(ctx.host);
    const disc =
      cached && Date.now() - cached.at < DISCOVERY_FRESH_MS ? cached.disc : await discoverProcesses(fs, { probeAll: ctx.settings.deep, signal: ctx.signal });
    if (!disc) return;
    const btime = parseBtime((await readText(fs, 'stat')) ?? '');
    const check = hiddenRow(
      'check',
      `${disc.listed.size} processes listed, ${disc.hidden.length} found only by direct checks; pids ${disc.probe?.from ?? '-'}..${disc.probe?.upTo ?? '-'} looked up in ${disc.probe?.ms ?? '-'} ms; ${disc.tasksSeen} threads seen, ${disc.kernelTasks ?? '?'} counted by the kernel`,
    );
    Object.assign(check, {
      pidMax: disc.pidMax,
      probedFrom: disc.probe?.from ?? null,
      probedUpTo: disc.probe?.upTo ?? null,
      probeMs: disc.probe?.ms ?? null,
      probeComplete: disc.probe?.complete ?? null,
      processesListed: disc.listed.size,
      processesHidden: disc.hidden.length,
      tasksSeen: disc.tasksSeen,
      kernelTasks: disc.kernelTasks,
    });
    yield check;

    for (const pid of disc.hidden) {
      const st = await fs.read(`${pid}/stat`, 4096, 'single');
      const stat = st.ok ? parseStat(st.value.data) : null;
      const status = await readText(fs, `${pid}/status`);
      const link = await fs.readlink(`${pid}/exe`);
      const comm = stat ? text(stat.comm).text : null;
      const row = hiddenRow('unlisted-process', `pid ${pid}${comm === null ? '' : ` (${comm})`} answers but is missing from the /proc listing`);
      row.pid = pid;
      row.foundBy = FOUND_ORDER.filter((f) => disc.foundBy.get(pid)?.has(f));
      row.ppid = stat?.ppid ?? null;
      row.uid = status === null ? null : (parseStatus(status).uids[0] ?? null);
      row.comm = comm;
      row.exe = link.ok ? text(link.value).text : null;
      row.startTime = stat ? startIso(btime, stat.startTicks) : null;
      yield row;
    }
  },
});
