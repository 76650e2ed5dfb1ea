import type { BigIntStats, Dir, Dirent, Stats } from 'node:fs';

/**
 * The traversal behind fs-walk.ts, run on a worker thread (walk-thread.ts).
 * Its source text is what the worker evaluates, so this function must stay
 * self-contained: no imports (types only), no module-level helpers; it reaches
 * node:fs through process.getBuiltinModule.
 *
 * Protections: names are bytes (invalid UTF-8 survives), symlinks are never
 * followed, FIFOs and devices are never opened, a directory that is its own
 * ancestor (bind-mount loop) is entered once, entries that vanish mid-walk are
 * skipped, filesystems not to walk are not entered, and a directory with a
 * million entries is streamed instead of read whole. Memory stays O(depth).
 * Every syscall is synchronous: on a worker nothing else waits on this thread,
 * and a synchronous lstat costs a third of one through libuv's thread pool.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown';

/** An entry is yielded when every condition of at least one rule holds. */
export interface WalkRule {
  /** Entry types the rule applies to; all when absent. */
  types?: EntryType[];
  /** Any of these permission bits is set. */
  modeAny?: number;
  /** mtime, ctime or birth time at or after this many ms since the epoch. */
  changedSinceMs?: number;
  /** The entry lies inside one of these directories (host paths). */
  inside?: Uint8Array[];
  /** The entry lies inside none of these directories. */
  notInside?: Uint8Array[];
  /** Read the first bytes of the regular files this rule yields (see FoundEntry.head). */
  sniff?: boolean;
}

export interface WalkJob {
  /** Resolved starting points, nested and duplicate ones already removed. */
  roots: { host: Uint8Array; real: Uint8Array }[];
  /** Under --root, the real path of an entry is this prefix followed by its host path; null on the live host. */
  rootPrefix: Uint8Array | null;
  /** Real paths of mount points not to enter; null when there is no mount table (then each root's own device only). */
  skipMounts: string[] | null;
  maxDepth: number;
  /** Directories at least this big (st_size) are streamed with opendir instead of read whole. */
  bigDirBytes: number;
  /** Which entries to yield; null for every entry. Directories are entered whether yielded or not. */
  rules: WalkRule[] | null;
  /** Without rules: read the first bytes of every regular file (see FoundEntry.head); with rules, WalkRule.sniff says. */
  sniff: boolean;
}

export interface FoundEntry {
  /** Text when every name on the way is valid UTF-8 (cheaper to build and pass to lstat), bytes otherwise. */
  hostPath: string | Buffer;
  type: EntryType;
  /** 0 for a root, 1 for its entries, and so on. */
  depth: number;
  /** lstat with nanosecond times; null for entries no rule needed to stat (walks with rules only). */
  stat: BigIntStats | null;
  /**
   * When asked for (WalkJob.sniff, WalkRule.sniff), for a regular file: its first bytes (at most 256) when
   * they begin like an ELF file or a script (content-kind.ts judges them), an
   * empty buffer when they do not, null when it could not be read (recorded
   * through onError, with the words content-kind.ts uses). Opened the way
   * content-kind.ts opens files: never following a link, never blocking on a
   * FIFO swapped in, without touching the access time where allowed.
   */
  head?: Buffer | null;
}

/**
 * Yields the entries asked for, depth first, and `null` every few hundred
 * entries visited so that the caller can check for an abort even while
 * nothing matches.
 */
export function* walkTree(job: WalkJob, onError: (hostPath: Buffer, code: string, message: string) => void): Generator<FoundEntry | null> {
  const fs = process.getBuiltinModule('node:fs');
  const { isUtf8 } = process.getBuiltinModule('node:buffer');
  type PathOf = string | Buffer;
  const rules = job.rules;
  const SLASH = 0x2f;

  // Paths are strings while every name is valid UTF-8: building and lstat-ing a string path costs about half
  // of doing the same with a Buffer, which is most of the walk's own work. A directory holding a name that is
  // not (readdir gives U+FFFD for it) is read again as bytes, and every path below it stays bytes.
  const toBuf = (p: PathOf): Buffer => (typeof p === 'string' ? Buffer.from(p) : p);
  const fromBytes = (b: Uint8Array): PathOf => {
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    return isUtf8(buf) ? buf.toString() : Buffer.from(buf);
  };
  /** One string per path, whichever form it has, for set lookups. */
  const keyOf = (p: PathOf): string => (typeof p === 'string' ? p : isUtf8(p) ? p.toString() : `\0${p.toString('latin1')}`);
  const join = (dir: PathOf, name: PathOf): PathOf => {
    if (typeof dir === 'string' && typeof name === 'string') return dir === '/' ? `/${name}` : `${dir}/${name}`;
    const d = toBuf(dir);
    const n = toBuf(name);
    const root = d.length === 1 && d[0] === SLASH;
    const out = Buffer.allocUnsafe(d.length + (root ? 0 : 1) + n.length);
    d.copy(out, 0);
    if (!root) out[d.length] = SLASH;
    n.copy(out, out.length - n.length);
    return out;
  };
  const prefix = job.rootPrefix ? fromBytes(job.rootPrefix) : null;
  const real = (hostPath: PathOf): PathOf => (prefix === null ? hostPath : typeof prefix === 'string' && typeof hostPath === 'string' ? prefix + hostPath : Buffer.concat([toBuf(prefix), toBuf(hostPath)]));
  const skipMounts = job.skipMounts ? new Set(job.skipMounts) : null;

  const typeOf = (d: Dirent | Stats | BigIntStats): EntryType =>
    d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : d.isFIFO() ? 'fifo' : d.isSocket() ? 'socket' : d.isCharacterDevice() ? 'char' : d.isBlockDevice() ? 'block' : 'unknown';
  const parentOf = (p: Buffer): Buffer => p.subarray(0, Math.max(1, p.lastIndexOf(SLASH)));
  const within = (dir: Buffer, d: Uint8Array): boolean =>
    dir.length >= d.length && Buffer.compare(dir.subarray(0, d.length), d) === 0 && (dir.length === d.length || dir[d.length] === SLASH || (d.length === 1 && d[0] === SLASH));

  // Which rules can apply to the entries of a directory is decided once per directory, from its parent's answer:
  // a directory lies within a place when its parent does or it is the place itself (one set lookup per rule).
  interface Places {
    inside: boolean[];
    outside: boolean[];
    rules: WalkRule[];
    /** Entry types some rule may match here (what to lstat); null for any type. */
    statTypes: Set<EntryType> | null;
  }
  const ruleList = rules ?? [];
  const placeKeys = (places: Uint8Array[] | undefined) => (places ? new Set(places.map((b) => keyOf(Buffer.from(b.buffer, b.byteOffset, b.byteLength)))) : null);
  const insideKeys = ruleList.map((r) => placeKeys(r.inside));
  const outsideKeys = ruleList.map((r) => placeKeys(r.notInside));
  const placesOf = (dir: PathOf, dirKey: string, parent: Places | null): Places => {
    const inside = ruleList.map((r, i) => !r.inside || (parent ? parent.inside[i]! || insideKeys[i]!.has(dirKey) : r.inside.some((d) => within(toBuf(dir), d))));
    const outside = ruleList.map((r, i) => !!r.notInside && (parent ? parent.outside[i]! || outsideKeys[i]!.has(dirKey) : r.notInside.some((d) => within(toBuf(dir), d))));
    const active = ruleList.filter((_, i) => inside[i] && !outside[i]);
    const statTypes = active.some((r) => !r.types) ? null : new Set(active.flatMap((r) => r.types!));
    return { inside, outside, rules: active, statTypes };
  };
  /** 0: no rule holds; 1: one does; 2: one that wants the file's first bytes does. */
  const verdict = (rules: WalkRule[], type: EntryType, st: Stats | BigIntStats): 0 | 1 | 2 => {
    let v: 0 | 1 | 2 = 0;
    for (const r of rules) {
      if (!matches(r, type, st)) continue;
      if (r.sniff) return 2;
      v = 1;
    }
    return v;
  };
  const matches = (r: WalkRule, type: EntryType, st: Stats | BigIntStats): boolean =>
    (!r.types || r.types.includes(type)) &&
    (r.modeAny === undefined || (Number(st.mode) & r.modeAny) !== 0) &&
    (r.changedSinceMs === undefined || Number(st.mtimeMs) >= r.changedSinceMs || Number(st.ctimeMs) >= r.changedSinceMs || Number(st.birthtimeMs) >= r.changedSinceMs);
  const codeOf = (err: unknown): string => {
    const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
    return typeof code === 'string' ? code : 'EIO';
  };
  const fail = (p: PathOf, err: unknown) => {
    const code = codeOf(err);
    if (code === 'ENOENT') return; // vanished mid-walk: plain absence
    onError(toBuf(p), code, code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot be read (${code})`);
  };
  // Without rules every entry is yielded, so each gets the precise (bigint) lstat at once; with rules a plain
  // lstat decides and only the few entries yielded are stat-ed again precisely.
  const lstat = (p: PathOf, precise: boolean): Stats | BigIntStats | undefined => (precise ? fs.lstatSync(p, { bigint: true, throwIfNoEntry: false }) : fs.lstatSync(p, { throwIfNoEntry: false }));
  const C = fs.constants;
  const OPEN = C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW | C.O_NOCTTY;
  const HEAD_BYTES = 256;
  const EMPTY = Buffer.alloc(0);
  const sniff = (hostPath: PathOf, realPath: PathOf, st: BigIntStats): Buffer | null => {
    if (st.size < 2n) return EMPTY;
    let fd: number;
    try {
      try {
        fd = fs.openSync(realPath, OPEN | C.O_NOATIME);
      } catch (err) {
        if (codeOf(err) !== 'EPERM') throw err;
        fd = fs.openSync(realPath, OPEN); // O_NOATIME needs ownership or CAP_FOWNER
      }
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'ENOENT') onError(toBuf(hostPath), code, code === 'ELOOP' ? 'is a symlink: not followed' : `cannot be opened (${code})`);
      return null;
    }
    try {
      const now = fs.fstatSync(fd, { bigint: true });
      if (!now.isFile()) {
        onError(toBuf(hostPath), 'ENOTREG', 'not a regular file: not read');
        return null;
      }
      if (now.ino !== st.ino || now.dev !== st.dev) {
        onError(toBuf(hostPath), 'ERACE', 'replaced since it was listed: not read');
        return null;
      }
      const head = Buffer.alloc(HEAD_BYTES);
      const n = fs.readSync(fd, head, 0, HEAD_BYTES, 0);
      const elf = n >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
      const script = n >= 2 && head[0] === 0x23 && head[1] === 0x21;
      return elf || script ? head.subarray(0, n) : EMPTY;
    } catch (err) {
      const code = codeOf(err);
      onError(toBuf(hostPath), code, `cannot be read (${code})`);
      return null;
    } finally {
      fs.closeSync(fd);
    }
  };
  const found = (hostPath: PathOf, realPath: PathOf, type: EntryType, depth: number, stat: BigIntStats | null, head: boolean): FoundEntry =>
    head && type === 'file' && stat ? { hostPath, type, depth, stat, head: sniff(hostPath, realPath, stat) } : { hostPath, type, depth, stat };
  /** A directory's entries, whole; read again as bytes when a name is not valid UTF-8. */
  const readDir = (dir: PathOf): Dirent[] => {
    if (typeof dir === 'string') {
      const list = fs.readdirSync(dir, { withFileTypes: true });
      if (!list.some((d) => d.name.includes('\uFFFD'))) return list;
    }
    return fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' }) as unknown as Dirent[];
  };

  interface Frame {
    hostDir: PathOf;
    realDir: PathOf;
    depth: number;
    key: string;
    dev: string;
    places: Places;
    list: Dirent[] | null;
    index: number;
    dir: Dir | null;
  }

  for (const root of job.roots) {
    const hostRoot = fromBytes(root.host);
    const realRoot = fromBytes(root.real);
    let st: Stats | BigIntStats | undefined;
    try {
      st = lstat(realRoot, true);
    } catch (err) {
      fail(hostRoot, err);
      continue;
    }
    if (!st) continue;
    const rootType = typeOf(st);
    const above = parentOf(toBuf(hostRoot));
    const rootVerdict = rules === null ? (job.sniff ? 2 : 1) : verdict(placesOf(above, keyOf(above), null).rules, rootType, st);
    if (rootVerdict > 0) yield found(hostRoot, realRoot, rootType, 0, st as BigIntStats, rootVerdict === 2);
    if (rootType !== 'dir') continue;

    const ancestors = new Set<string>();
    const stack: Frame[] = [];
    const open = (hostDir: PathOf, realDir: PathOf, dst: Stats | BigIntStats, depth: number): void => {
      if (depth > job.maxDepth) {
        onError(toBuf(hostDir), 'EDEPTH', `deeper than ${job.maxDepth} levels: not walked`);
        return;
      }
      const hostKey = keyOf(hostDir);
      if (skipMounts?.has(prefix === null ? hostKey : keyOf(realDir))) return;
      const dev = String(dst.dev);
      // Without a mount table, stay on the device the walk started on.
      if (skipMounts === null && stack.length > 0 && dev !== stack[0]!.dev) return;
      const key = `${dev}:${dst.ino}`;
      if (ancestors.has(key)) {
        onError(toBuf(hostDir), 'ELOOP', 'directory is its own ancestor (bind-mount loop): not walked again');
        return;
      }
      try {
        const places = placesOf(hostDir, hostKey, stack.length > 0 ? stack[stack.length - 1]!.places : null);
        const frame: Frame = { hostDir, realDir, depth, key, dev, places, list: null, index: 0, dir: null };
        // A huge directory is streamed, always as bytes (one pass, no second reading for a bad name).
        if (Number(dst.size) >= job.bigDirBytes) frame.dir = fs.opendirSync(realDir, { encoding: 'buffer', bufferSize: 256 } as unknown as { encoding: 'utf8' });
        else frame.list = readDir(realDir);
        ancestors.add(key);
        stack.push(frame);
      } catch (err) {
        fail(hostDir, err);
      }
    };
    open(hostRoot, realRoot, st, 1);

    let visited = 0;
    try {
      while (stack.length > 0) {
        if (++visited % 512 === 0) yield null;
        const frame = stack[stack.length - 1]!;
        let d: Dirent | null = null;
        try {
          if (frame.list) d = frame.index < frame.list.length ? frame.list[frame.index++]! : null;
          else d = frame.dir!.readSync();
        } catch (err) {
          fail(frame.hostDir, err);
          d = null;
        }
        if (d === null) {
          stack.pop();
          ancestors.delete(frame.key);
          try {
            frame.dir?.closeSync();
          } catch {
            // already closed
          }
          continue;
        }
        const hostPath = join(frame.hostDir, d.name as string | Buffer);
        const realPath = prefix === null ? hostPath : real(hostPath);
        let type = typeOf(d);
        let est: Stats | BigIntStats | null = null;
        const { statTypes } = frame.places;
        if (rules === null || type === 'dir' || type === 'unknown' || statTypes === null || statTypes.has(type)) {
          try {
            est = lstat(realPath, rules === null) ?? null;
          } catch (err) {
            fail(hostPath, err);
            continue;
          }
          if (est === null) continue; // vanished
          type = typeOf(est); // the name may have been replaced since readdir
        }
        const v = rules === null ? 0 : est ? verdict(frame.places.rules, type, est) : 0;
        if (rules === null) yield found(hostPath, realPath, type, frame.depth, est as BigIntStats | null, job.sniff);
        else if (v > 0) {
          let precise: Stats | BigIntStats | undefined;
          try {
            precise = lstat(realPath, true);
          } catch (err) {
            fail(hostPath, err);
          }
          if (precise) yield found(hostPath, realPath, typeOf(precise), frame.depth, precise as BigIntStats, v === 2);
        }
        if (type === 'dir' && est) open(hostPath, realPath, est, frame.depth + 1);
      }
    } finally {
      for (const f of stack) {
        try {
          f.dir?.closeSync();
        } catch {
          // already closed
        }
      }
    }
  }
}
