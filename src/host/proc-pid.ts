/**
 * Parsers for the per-process files of /proc (proc(5)): stat, status, cmdline,
 * environ, cgroup, the exe/cwd/root/ns/fd links, and a few system-wide files the
 * process collectors need (loadavg, maps, /etc/ld.so.preload). Everything here
 * is a pure function over bytes the kernel (or a saved copy, or an intruder)
 * gave us: nothing throws, whatever the input.
 */

/** USER_HZ: the unit of the tick counts in /proc/PID/stat; 100 on every Linux architecture goldhour runs on. */
export const CLK_TCK = 100;

/** PF_KTHREAD in the flags field of /proc/PID/stat: set by the kernel for its own threads only. */
export const PF_KTHREAD = 0x00200000;

export interface ProcStat {
  pid: number;
  /** The comm between the first '(' and the LAST ')': a comm may itself hold ')', spaces or newlines. */
  comm: Buffer;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  flags: number;
  utime: number;
  stime: number;
  numThreads: number;
  /** Start time in clock ticks after boot. */
  startTicks: number;
  vsize: number;
  rssPages: number;
}

/**
 * /proc/PID/stat. comm may be up to 16 bytes of anything except NUL, including
 * ") R 1 " meant to shift a naive split, so fields are counted from the last ')'.
 */
export function parseStat(data: Buffer): ProcStat | null {
  const open = data.indexOf(0x28); // (
  const close = data.lastIndexOf(0x29); // )
  if (open < 1 || close < open) return null;
  const pid = toInt(data.subarray(0, open).toString('latin1').trim());
  if (pid === null) return null;
  const rest = data.subarray(close + 1).toString('latin1').trim().split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3]
  const f = (n: number): number | null => toInt(rest[n - 3]);
  const state = rest[0];
  const ppid = f(4);
  const utime = f(14);
  const stime = f(15);
  const startTicks = f(22);
  if (state === undefined || !/^[A-Za-z]$/.test(state) || ppid === null || utime === null || stime === null || startTicks === null) return null;
  return {
    pid,
    comm: Buffer.from(data.subarray(open + 1, close)),
    state,
    ppid,
    pgrp: f(5) ?? 0,
    session: f(6) ?? 0,
    ttyNr: f(7) ?? 0,
    flags: f(9) ?? 0,
    utime,
    stime,
    numThreads: f(20) ?? 0,
    startTicks,
    vsize: f(23) ?? 0,
    rssPages: f(24) ?? 0,
  };
}

function toInt(s: string | undefined): number | null {
  if (s === undefined || !/^-?\d{1,20}$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

export interface ProcStatus {
  name: string | null;
  tgid: number | null;
  ppid: number | null;
  /** Real, effective, saved and filesystem uid. */
  uids: number[];
  gids: number[];
  /** The pid in each pid namespace the process belongs to, outermost first. */
  nsPids: number[];
  threads: number | null;
  /** VmRSS in bytes; null for kernel threads and zombies, which have no memory. */
  rssBytes: number | null;
  capInh: string | null;
  capPrm: string | null;
  capEff: string | null;
  capBnd: string | null;
  capAmb: string | null;
  noNewPrivs: boolean | null;
  seccomp: number | null;
}

/** /proc/PID/status: "Key:\tvalue" lines; Name is escaped by the kernel (\n, \\), so comm comes from stat. */
export function parseStatus(text: string): ProcStatus {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon);
    if (!kv.has(key)) kv.set(key, line.slice(colon + 1).trim());
  }
  const ints = (key: string): number[] => {
    const v = kv.get(key);
    if (!v) return [];
    const out: number[] = [];
    for (const p of v.split(/\s+/)) {
      const n = toInt(p);
      if (n === null) return [];
      out.push(n);
    }
    return out;
  };
  const int = (key: string): number | null => ints(key)[0] ?? null;
  const hex = (key: string): string | null => {
    const v = kv.get(key);
    return v !== undefined && /^[0-9a-fA-F]{1,32}$/.test(v) ? v.toLowerCase() : null;
  };
  const rss = kv.get('VmRSS')?.match(/^(\d+)\s*kB$/);
  const nnp = int('NoNewPrivs');
  return {
    name: kv.get('Name') ?? null,
    tgid: int('Tgid'),
    ppid: int('PPid'),
    uids: ints('Uid'),
    gids: ints('Gid'),
    nsPids: ints('NSpid'),
    threads: int('Threads'),
    rssBytes: rss ? Number(rss[1]) * 1024 : null,
    capInh: hex('CapInh'),
    capPrm: hex('CapPrm'),
    capEff: hex('CapEff'),
    capBnd: hex('CapBnd'),
    capAmb: hex('CapAmb'),
    noNewPrivs: nnp === null ? null : nnp !== 0,
    seccomp: int('Seccomp'),
  };
}

/**
 * /proc/PID/cmdline: arguments separated by NUL, normally with a NUL after the
 * last. Only that one trailing NUL is dropped, so empty arguments stay (`sleep ''`)
 * and a process that rewrote its argv (setproctitle) gives one argument with spaces.
 */
export function splitCmdline(data: Buffer): Buffer[] {
  if (data.length === 0) return [];
  const end = data[data.length - 1] === 0 ? data.length - 1 : data.length;
  const args: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || data[i] === 0) {
      args.push(data.subarray(start, i));
      start = i + 1;
    }
  }
  return args;
}

/**
 * The values of the named variables in /proc/PID/environ (NUL-separated
 * NAME=value), every occurrence in order: an environment may name a variable
 * twice, and the dynamic loader takes the last LD_PRELOAD it sees. `entries`
 * holds the matching NAME=value entries, raw, for a byte-faithful copy.
 */
export function pickEnviron(data: Buffer, names: readonly string[]): EnvironPick {
  const s = new EnvironScanner(names);
  s.feed(data);
  return s.end();
}

export interface EnvironPick {
  values: Map<string, Buffer[]>;
  entries: Buffer[];
  /** Some matching entry was longer than the scanner keeps and was cut. */
  truncated: boolean;
}

/**
 * pickEnviron fed in chunks, so an environment padded to megabytes (to push
 * LD_PRELOAD past what a tool reads) is scanned whole without being held in
 * memory: only matching entries are kept, each up to maxEntry bytes.
 */
export class EnvironScanner {
  private readonly prefixes: [string, Buffer][];
  private readonly longest: number;
  private readonly firsts: Set<number>;
  /** The first bytes of the current entry, while it is not yet known whether it matches. */
  private head: Buffer[] = [];
  private headLen = 0;
  private cur: Buffer[] = [];
  private curLen = 0;
  private state: 'undecided' | 'keep' | 'skip' = 'undecided';
  private readonly out: EnvironPick;

  constructor(
    names: readonly string[],
    private readonly maxEntry = 64 * 1024,
  ) {
    this.prefixes = names.map((n) => [n, Buffer.from(`${n}=`, 'latin1')]);
    this.longest = Math.max(1, ...this.prefixes.map(([, p]) => p.length));
    this.firsts = new Set(this.prefixes.map(([, p]) => p[0]!));
    this.out = { values: new Map(names.map((n) => [n, []])), entries: [], truncated: false };
  }

  /** Feeds the next bytes; the chunk may be reused by the caller afterwards. */
  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      const nul = chunk.indexOf(0, i);
      const end = nul === -1 ? chunk.length : nul;
      if (end > i) this.append(chunk.subarray(i, end));
      if (nul === -1) return;
      this.finish();
      i = nul + 1;
    }
  }

  end(): EnvironPick {
    this.finish();
    return this.out;
  }

  private append(b: Buffer): void {
    if (this.state === 'skip') return;
    if (this.state === 'undecided') {
      // most entries are told apart by their first byte, without copying anything
      if (this.headLen === 0 && !this.firsts.has(b[0]!)) {
        this.state = 'skip';
        return;
      }
      const take = b.subarray(0, this.longest - this.headLen);
      this.head.push(Buffer.from(take));
      this.headLen += take.length;
      this.decide(false);
      if ((this.state as string) !== 'keep') return;
      this.keep(Buffer.concat(this.head, this.headLen));
      b = b.subarray(take.length);
    }
    this.keep(b);
  }

  private keep(b: Buffer): void {
    const room = this.maxEntry - this.curLen;
    if (b.length > room) this.out.truncated = true;
    const part = b.subarray(0, Math.max(0, room));
    if (part.length === 0) return;
    this.cur.push(Buffer.from(part));
    this.curLen += part.length;
  }

  private decide(final: boolean): void {
    const head = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head, this.headLen);
    let possible = false;
    for (const [, p] of this.prefixes) {
      const n = Math.min(head.length, p.length);
      if (head.compare(p, 0, n, 0, n) !== 0) continue;
      if (head.length >= p.length) {
        this.state = 'keep';
        return;
      }
      possible = true;
    }
    if (!possible || final) this.state = 'skip';
  }

  private finish(): void {
    if (this.state === 'undecided' && this.headLen > 0) this.decide(true);
    if (this.state === 'keep') {
      const entry = Buffer.concat(this.cur, this.curLen);
      const match = this.prefixes.find(([, p]) => entry.length >= p.length && entry.compare(p, 0, p.length, 0, p.length) === 0);
      if (match) {
        this.out.values.get(match[0])!.push(entry.subarray(match[1].length));
        this.out.entries.push(entry);
      }
    }
    this.head = [];
    this.headLen = 0;
    this.cur = [];
    this.curLen = 0;
    this.state = 'undecided';
  }
}

/** "net:[4026531840]" (a /proc/PID/ns link) → 4026531840. */
export function parseNsLink(link: string, kind?: string): number | null {
  const m = link.match(/^([a-z_]+):\[(\d{1,20})\]$/);
  if (!m || (kind !== undefined && m[1] !== kind)) return null;
  return Number(m[2]);
}

/** "socket:[12345]" (a /proc/PID/fd link) → 12345; null for anything else. */
export function socketInode(link: string): number | null {
  const m = link.match(/^socket:\[(\d{1,20})\]$/);
  return m ? Number(m[1]) : null;
}

export interface ExeLink {
  /** The link with the kernel's " (deleted)" suffix removed when the file is deleted. */
  path: Buffer;
  /** The link ends in " (deleted)" (a real file may be named so: confirm with the link count). */
  deletedSuffix: boolean;
  /** An anonymous memory file (memfd_create): fileless code. */
  memfd: boolean;
}

const DELETED = Buffer.from(' (deleted)');
const MEMFD = Buffer.from('/memfd:');

/** A /proc/PID/exe (or cwd, root, fd) link as read. */
export function parseExeLink(link: Buffer, nlink: number | null = null): ExeLink {
  const suffix = link.length > DELETED.length && link.subarray(link.length - DELETED.length).equals(DELETED);
  // When the link count is known it decides: a file may really be called "x (deleted)".
  const strip = suffix && (nlink === null || nlink === 0);
  return {
    path: strip ? Buffer.from(link.subarray(0, link.length - DELETED.length)) : link,
    deletedSuffix: suffix,
    memfd: link.subarray(0, MEMFD.length).equals(MEMFD),
  };
}

export interface CgroupLine {
  hierarchy: number | null;
  controllers: string;
  path: string;
}

/** /proc/PID/cgroup: "hierarchy-ID:controllers:path" lines; "0::path" is the unified (v2) hierarchy. */
export function parseCgroup(text: string): { lines: CgroupLine[]; path: string | null } {
  const lines: CgroupLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    const a = raw.indexOf(':');
    const b = a === -1 ? -1 : raw.indexOf(':', a + 1);
    if (b === -1) continue;
    lines.push({ hierarchy: toInt(raw.slice(0, a)), controllers: raw.slice(a + 1, b), path: raw.slice(b + 1) });
  }
  // The unified hierarchy names the process's cgroup on v2 and hybrid hosts; on pure v1, systemd's own.
  const pick =
    lines.find((l) => l.hierarchy === 0 && l.controllers === '' && l.path !== '/') ??
    lines.find((l) => l.controllers === 'name=systemd') ??
    lines.find((l) => l.hierarchy === 0) ??
    lines[0];
  return { lines, path: pick?.path ?? null };
}

/** /proc/loadavg: "0.10 0.20 0.30 R/T LAST": R runnable, T tasks (threads) the kernel has, LAST the last pid handed out. */
export function parseLoadavg(text: string): { running: number; tasks: number; lastPid: number } | null {
  const m = text.match(/^\s*\S+\s+\S+\s+\S+\s+(\d+)\/(\d+)\s+(\d+)/);
  return m ? { running: Number(m[1]), tasks: Number(m[2]), lastPid: Number(m[3]) } : null;
}

/** btime (seconds since the epoch the system booted) from /proc/stat. */
export function parseBtime(text: string): number | null {
  const m = text.match(/^btime (\d{1,15})$/m);
  return m ? Number(m[1]) : null;
}

/** The distinct files mapped into a process (/proc/PID/maps), in order of first mapping. */
export function mappedFiles(text: string): string[] {
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    // address perms offset dev inode pathname — the pathname may contain spaces
    const m = line.match(/^[0-9a-f]+-[0-9a-f]+ \S+ [0-9a-f]+ \S+ (\d+) +(\/.*)$/);
    if (!m || m[1] === '0') continue;
    seen.add(m[2]!);
  }
  return [...seen];
}

/**
 * The libraries /etc/ld.so.preload names, parsed as glibc's loader does:
 * '#' starts a comment to the end of the line, and names are separated by
 * spaces, tabs, newlines or ':'.
 */
export function parseLdSoPreload(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let comment = false;
  for (let i = 0; i <= data.length; i++) {
    const c = i === data.length ? 0x0a : data[i]!;
    if (comment) {
      if (c !== 0x0a) continue;
      comment = false;
    }
    const sep = c === 0x20 || c === 0x09 || c === 0x0a || c === 0x3a || c === 0x23;
    if (sep) {
      if (start !== -1) out.push(Buffer.from(data.subarray(start, i)));
      start = -1;
      if (c === 0x23) comment = true;
    } else if (start === -1) {
      start = i;
    }
  }
  return out;
}

/** The parent chain of `pid` (parent first), stopping at an unknown parent, pid 0 or a loop. */
export function ancestry(pid: number, parentOf: ReadonlyMap<number, number>): number[] {
  const chain: number[] = [];
  const seen = new Set<number>([pid]);
  let p = parentOf.get(pid);
  while (p !== undefined && p > 0 && !seen.has(p)) {
    chain.push(p);
    seen.add(p);
    p = parentOf.get(p);
  }
  return chain;
}

/** Entries of /proc that name a process (all digits, no leading zero). */
export function isPidName(name: string): boolean {
  return /^[1-9]\d{0,9}$/.test(name);
}
