import { constants as C, readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { errnoCode } from '../lib/user-error.js';
import type { Host } from './host.js';
import { parseMountinfo } from './mountinfo.js';
import { walkOnThread, type WalkStat } from './walk-thread.js';
import type { EntryType, WalkRule } from './walk-tree.js';

/**
 * A directory walker for hostile trees (see walk-tree.ts for its protections),
 * run on a worker thread (walk-thread.ts). This side resolves the starting
 * points inside the examined root, picks the filesystems not to enter, and
 * drops goldhour's own output.
 */

export type { EntryType, WalkRule, WalkStat };

export interface WalkEntry {
  /** The path on the examined host (never prefixed with --root). */
  hostPath: Buffer;
  /** Where this machine reads it (equal to hostPath on a live host). */
  realPath: Buffer;
  /** The final component, as bytes. */
  name: Buffer;
  type: EntryType;
  /** lstat of the entry; null when no rule needed it (see WalkOptions.select). */
  stat: WalkStat | null;
  depth: number;
  /** When asked for (WalkOptions.sniff, WalkRule.sniff), for a regular file: see FoundEntry.head in walk-tree.ts. */
  head?: Buffer | null;
}

export interface WalkOptions {
  /** Host paths to start from; each is resolved inside the root, duplicates and nested roots are walked once. */
  roots: string[];
  /**
   * Which entries to yield: those matching a rule (all when absent). Filtering
   * happens on the walk's thread, so a whole-filesystem walk sends over only
   * what matters; directories are entered whether yielded or not.
   */
  select?: WalkRule[];
  /**
   * Without select: read the first bytes of each regular file on the walk's
   * thread, so that the caller opens only the ELF files and scripts among them
   * (failures are reported through onError). With select, WalkRule.sniff says
   * which files.
   */
  sniff?: boolean;
  /** Only filesystems judged local are entered; default true. */
  localOnly?: boolean;
  maxDepth?: number;
  /** Directories at least this big (st_size) are streamed with opendir instead of read whole (default 1 MiB). */
  bigDirBytes?: number;
  signal: AbortSignal;
  onError(hostPath: Buffer, code: string, message: string): void;
}

/** Filesystem types never walked: kernel pseudo filesystems, network and FUSE mounts, read-only images. */
const SKIPPED_FS = new Set([
  'proc', 'sysfs', 'cgroup', 'cgroup2', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf', 'configfs', 'fusectl',
  'mqueue', 'hugetlbfs', 'devpts', 'binfmt_misc', 'autofs', 'rpc_pipefs', 'nsfs', 'efivarfs', 'selinuxfs', 'nfsd',
  'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ncpfs', 'afs', 'ceph', 'glusterfs', 'lustre', 'gfs2', 'ocfs2', '9p', 'virtiofs',
  'sshfs', 'davfs', 'squashfs', 'iso9660', 'udf', 'overlay',
]);

export function isLocalFsType(fsType: string): boolean {
  if (fsType.startsWith('fuse')) return false;
  return !SKIPPED_FS.has(fsType);
}

/**
 * Mount points (real paths on this machine) of filesystems not to walk, or
 * null without a mount table. This is the walking process's own view
 * (/proc/self/mountinfo), which is what the walk actually traverses, live or
 * under --root; it is not evidence. The last mount at a point wins (over-mounts).
 */
export function nonLocalMounts(): string[] | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  const table = new Map<string, string>();
  for (const m of parseMountinfo(text).mounts) table.set(m.mountPoint, m.fsType);
  return [...table].filter(([, fsType]) => !isLocalFsType(fsType)).map(([point]) => point);
}

/** Directories this size or bigger (bytes as st_size reports; ~20 bytes an entry on tmpfs) are streamed. */
const BIG_DIR_BYTES = 1024 * 1024;

export async function* walk(host: Host, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  const rootPrefix = host.live ? '' : host.root;
  // Roots: resolve inside the root, report under the canonical host path, walk each real tree once.
  const roots: { host: string; real: string }[] = [];
  for (const r of opts.roots) {
    let real: string;
    try {
      // A root that is itself a link (/tmp -> /data/tmp, /bin -> usr/bin) is followed; nothing below it is.
      real = host.live ? await realpath(r) : await host.resolve(r);
    } catch (err) {
      const code = errnoCode(err) ?? 'EIO';
      if (code !== 'ENOENT') opts.onError(Buffer.from(r), code, code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot be read (${code})`);
      continue;
    }
    if (host.isExcluded(real)) continue;
    roots.push({ host: host.live ? real : real.slice(rootPrefix.length) || '/', real });
  }
  roots.sort((a, b) => a.real.length - b.real.length);
  const kept: typeof roots = [];
  for (const r of roots) {
    if (kept.some((k) => r.real === k.real || r.real.startsWith(k.real === '/' ? '/' : `${k.real}/`))) continue;
    kept.push(r);
  }
  const localOnly = opts.localOnly ?? true;
  const prefix = host.live ? null : Buffer.from(rootPrefix);
  const entries = walkOnThread(
    {
      roots: kept.map((r) => ({ host: Buffer.from(r.host), real: Buffer.from(r.real) })),
      rootPrefix: prefix,
      skipMounts: localOnly ? nonLocalMounts() : [],
      maxDepth: opts.maxDepth ?? 512,
      bigDirBytes: opts.bigDirBytes ?? BIG_DIR_BYTES,
      rules: opts.select ?? null,
      sniff: opts.sniff ?? false,
    },
    opts.signal,
    opts.onError,
  );
  for await (const e of entries) {
    const realPath = prefix ? Buffer.concat([prefix, e.hostPath]) : e.hostPath;
    // goldhour's own output is walked over but never reported (Host keeps the list of what to leave out).
    if (host.isExcluded(realPath.toString())) continue;
    const entry: WalkEntry = { hostPath: e.hostPath, realPath, name: e.hostPath.subarray(e.hostPath.lastIndexOf(0x2f) + 1), type: e.type, stat: e.stat, depth: e.depth };
    if (e.head !== undefined) entry.head = e.head;
    yield entry;
  }
}

/** ls-style mode: type character then rwx with s/S, t/T. */
export function modeString(mode: number): string {
  const t = mode & C.S_IFMT;
  const typeChar =
    t === C.S_IFDIR ? 'd' : t === C.S_IFLNK ? 'l' : t === C.S_IFIFO ? 'p' : t === C.S_IFSOCK ? 's' : t === C.S_IFCHR ? 'c' : t === C.S_IFBLK ? 'b' : t === C.S_IFREG ? '-' : '?';
  const bit = (m: number, ch: string) => (mode & m ? ch : '-');
  const special = (x: number, s: number, on: string, off: string) => (mode & s ? (mode & x ? on : off) : mode & x ? 'x' : '-');
  return (
    typeChar +
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T')
  );
}

/** A timestamp with nanoseconds kept (timestomping tools often leave the fraction at zero). */
export function isoNs(ns: bigint): string | null {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const d = new Date(Number(sec) * 1000);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  return `${iso.slice(0, iso.length - 5)}.${frac.toString().padStart(9, '0')}Z`;
}

/** Birth time, or null where the filesystem records none (statx leaves it zero). */
export function birthIso(ns: bigint): string | null {
  return ns === 0n ? null : isoNs(ns);
}
