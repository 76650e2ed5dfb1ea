import { realpath } from 'node:fs/promises';
import { z } from 'zod';
import { ContentReadError, examineContent, type ContentKind } from '../host/content-kind.js';
import { walk, type WalkEntry, type WalkOptions, type WalkStat } from '../host/fs-walk.js';
import { parseGetcap } from '../host/getcap.js';
import { HashPool } from '../host/hash-pool.js';
import { HostReadError, type Host } from '../host/host.js';
import { readOwners } from '../host/owners.js';
import type { CollectorSettings } from './collector.js';
import { defineCollector } from './collector.js';
import { TEMP_PLACES } from './temp-files.js';
import { contentColumns, linkColumns, linkFacts, shown, walkedFileColumns, walkedFileFacts } from './walked-file.js';

/** System directories whose contents change only through package updates and administrators; lib* entries of / and /usr are added as found. */
export const SYSTEM_DIRS = ['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/usr/local/lib', '/etc', '/boot', '/var/spool'];

const MAX_HASH_BYTES = 256 * 1024 * 1024;
/** Recently changed files (thousands after a system upgrade) are hashed only up to this size each and this many bytes in all. */
const RECENT_MAX_HASH_BYTES = 32 * 1024 * 1024;
const RECENT_HASH_BUDGET = 128 * 1024 * 1024;
/** Bytes of path arguments per getcap run (ARG_MAX is 2 MiB with the environment). */
const GETCAP_BATCH_BYTES = 1024 * 1024;
/** Executables per getcap run at most: listed entries wait for their batch's answer, so a smaller batch holds fewer. */
const GETCAP_BATCH_FILES = 2048;

type Reason = 'setuid' | 'setgid' | 'capabilities' | 'world-writable' | 'recent';

const Row = z.object({
  reasons: z
    .array(z.enum(['setuid', 'setgid', 'capabilities', 'world-writable', 'recent']))
    .describe('why the entry is listed: set-uid or set-gid bit; file capabilities (security.capability); writable by anyone (outside the temp places, which temp-files lists); recent: in a system directory and changed within --recent days'),
  changed: z.array(z.enum(['mtime', 'ctime', 'birthtime'])).describe('for recent entries, which timestamps fall in the window (a recent ctime with an old mtime is a backdated file or a changed owner or mode)'),
  ...walkedFileColumns,
  capabilities: z.string().nullable().describe('file capabilities as getcap prints them (e.g. cap_net_raw=ep); null when none or not checked'),
  capabilitiesChecked: z.boolean().describe('whether capabilities were read for this file (live host, executable regular file, getcap present)'),
  ...contentColumns,
  ...linkColumns,
});

type Row = z.infer<typeof Row>;

export const fileScanCollector = defineCollector({
  name: 'file-scan',
  title: 'Set-uid, capability-bearing, world-writable and recently changed files (one walk of the local filesystems)',
  description:
    'One walk of every local filesystem (disk filesystems and tmpfs; not proc, sysfs, network, FUSE, overlay or squashfs ' +
    'mounts, never goldhour\'s own output), listing: regular files with the set-uid or set-gid bit and executables carrying ' +
    'capabilities, anywhere; files and directories anyone may write, outside the temp places (temp-files lists those); and, ' +
    'under /bin, /sbin, /usr/bin, /usr/sbin, /usr/lib*, /lib*, /usr/local/{bin,sbin,lib}, /etc, /boot and /var/spool, ' +
    'every entry whose mtime, ctime or birth time lies within the last --recent days (default 7) of the collection time, ' +
    'or in the future. A set-uid shell or interpreter, a set-uid file outside /usr, cap_setuid or cap_sys_admin on an ' +
    'unexpected program, a world-writable file in /etc or a cron or unit directory, a new library in /usr/lib, a PAM ' +
    'module or binary with a recent ctime but an old mtime (backdated with touch) are what to look for; compare with the ' +
    'packages collector and the dpkg log. Set-uid, set-gid and capability-bearing files are SHA-256 hashed; recent and ' +
    'world-writable files when their content is ELF or a script (recent ones up to 32 MiB each and 128 MiB in all).',
  preconditions:
    'Root to see every directory. Capabilities are read with getcap (libcap2-bin) on a live host only, since Node cannot ' +
    'read extended attributes: on --root and where getcap is missing they are reported as not checked. On --root the ' +
    'recent window is still counted back from now. A whole-filesystem walk costs one lstat per file (about 6-8 µs each on ' +
    'a small VM: some seconds for a few hundred thousand files).',
  timeoutMs: 180_000,
  // The walk runs on a thread of its own: started early, it overlaps the many small collectors that follow.
  alongside: true,
  row: Row,
  async *collect(ctx) {
    const owners = await readOwners(ctx.host, (e) => ctx.error(e.hostPath, e.code, e.message));
    const sel = await selection(ctx.host, ctx.settings, ctx.error);
    const { tempPrefixes, systemPrefixes, cutoff } = sel;
    const entries = walk(ctx.host, { ...walkOptions(ctx.host, sel), signal: ctx.signal, onError: (p, code, message) => ctx.error(shown(p), code, message) });
    const pool = HashPool.open();
    const live = ctx.host.live;
    let getcapMissing = false;
    let budget = RECENT_HASH_BUDGET;
    let budgetNoted = false;
    let batch: WalkEntry[] = [];
    let batchBytes = 0;
    let pending: { entry: WalkEntry; reasons: Reason[] }[] = [];

    const recent = (st: WalkStat) => st.mtimeMs >= cutoff || st.ctimeMs >= cutoff || st.birthtimeMs >= cutoff;
    const reasonsOf = (e: WalkEntry): Reason[] => {
      const st = e.stat!;
      const r: Reason[] = [];
      if (e.type === 'file') {
        if (st.mode & 0o4000) r.push('setuid');
        if (st.mode & 0o2000) r.push('setgid');
      }
      if ((e.type === 'file' || e.type === 'dir') && st.mode & 0o002 && !underAny(e.hostPath, tempPrefixes)) r.push('world-writable');
      if (insideAny(e.hostPath, systemPrefixes) && recent(st)) r.push('recent');
      return r;
    };
    const wantsGetcap = (e: WalkEntry) => live && !getcapMissing && e.type === 'file' && (e.stat!.mode & 0o111) !== 0;

    const runBatch = async function* (): AsyncGenerator<Row> {
      const entries = batch;
      const held = pending;
      batch = [];
      batchBytes = 0;
      pending = [];
      const caps = new Map<string, string>();
      let checked = false;
      if (entries.length > 0 && !getcapMissing) {
        const args = entries.map((e) => e.hostPath);
        const run = await ctx.runTool('getcap', args.map((a) => a.toString()), { purpose: 'read file capabilities (security.capability) of executables found by the walk', timeoutMs: 60_000 });
        if (run === null) getcapMissing = true;
        else {
          checked = true;
          const { entries: found, unmatched } = parseGetcap(run.stdout, args);
          for (const f of found) caps.set(f.path.toString('latin1'), f.caps);
          if (unmatched.length > 0) ctx.error(run.path, 'EPARSE', `${unmatched.length} getcap output line(s) not matched to a file, first: ${unmatched[0]}`);
        }
      }
      const byKey = new Map(held.map((h) => [h.entry.hostPath.toString('latin1'), h]));
      for (const e of entries) {
        const key = e.hostPath.toString('latin1');
        if (caps.has(key) && !byKey.has(key)) {
          const h = { entry: e, reasons: [] as Reason[] };
          held.push(h);
          byKey.set(key, h);
        }
      }
      const inBatch = new Set(entries.map((e) => e.hostPath.toString('latin1')));
      for (const h of held) {
        if (ctx.signal.aborted) return;
        const key = h.entry.hostPath.toString('latin1');
        const c = caps.get(key) ?? null;
        const reasons: Reason[] = c ? [...h.reasons.filter((r) => r !== 'recent'), 'capabilities', ...h.reasons.filter((r) => r === 'recent')] : h.reasons;
        const row = await describe(h.entry, reasons);
        yield { ...row, capabilities: c, capabilitiesChecked: checked && inBatch.has(key) };
      }
    };

    const describe = async (e: WalkEntry, reasons: Reason[]) => {
      const st = e.stat!;
      const changed: ('mtime' | 'ctime' | 'birthtime')[] = [];
      if (reasons.includes('recent')) {
        if (st.mtimeMs >= cutoff) changed.push('mtime');
        if (st.ctimeMs >= cutoff) changed.push('ctime');
        if (st.birthtimeNs > 0n && st.birthtimeMs >= cutoff) changed.push('birthtime');
      }
      let content: { contentKind: ContentKind | null; interpreter: string | null; sha256: string | null } = { contentKind: null, interpreter: null, sha256: null };
      const privileged = reasons.some((r) => r === 'setuid' || r === 'setgid' || r === 'capabilities');
      // Privileged files are hashed whatever they hold; others only when the walk saw an ELF or script start.
      if (e.type === 'file' && st.size > 0 && (privileged || (e.head && e.head.length > 0))) {
        const onlyRecent = !privileged && !reasons.includes('world-writable');
        try {
          const c = await examineContent(e.realPath, st, {
            pool,
            maxHashBytes: onlyRecent ? RECENT_MAX_HASH_BYTES : MAX_HASH_BYTES,
            hash: (k) => privileged || (k !== null && (!onlyRecent || budget >= st.size)),
          });
          content = { contentKind: c.kind, interpreter: c.interpreter, sha256: c.sha256 };
          if (onlyRecent && c.sha256) budget -= st.size;
          else if (onlyRecent && c.kind && !c.tooBigToHash && !budgetNoted) {
            budgetNoted = true;
            ctx.error(null, 'EBUDGET', `hashing of recently changed files stopped after ${RECENT_HASH_BUDGET} bytes; later ones are listed without SHA-256`);
          }
          if (c.tooBigToHash && !onlyRecent) ctx.error(shown(e.hostPath), 'ETOOBIG', `${st.size} bytes: larger than ${MAX_HASH_BYTES}, not hashed`);
        } catch (err) {
          if (!(err instanceof ContentReadError)) throw err;
          if (err.code !== 'ENOENT') ctx.error(shown(e.hostPath), err.code, err.message);
        }
      }
      return { reasons, changed, ...walkedFileFacts(e, owners), ...content, ...linkFacts(e) };
    };

    try {
      for await (const e of entries) {
        if (!e.stat) continue;
        const reasons = reasonsOf(e);
        if (reasons.length > 0) pending.push({ entry: e, reasons });
        if (wantsGetcap(e)) {
          if (isUtf8(e.hostPath)) {
            batch.push(e);
            batchBytes += e.hostPath.length + 1;
          } else {
            ctx.error(shown(e.hostPath), 'EBADNAME', 'executable whose name is not valid UTF-8: capabilities not checked (getcap takes text arguments)');
          }
        }
        if (batchBytes >= GETCAP_BATCH_BYTES || batch.length >= GETCAP_BATCH_FILES || pending.length >= 4096 || (batch.length === 0 && pending.length >= 256)) yield* runBatch();
      }
      yield* runBatch();
      if (!live) ctx.error(null, 'ENOTCHECKED', 'file capabilities not checked: they need getcap on a live host (Node cannot read extended attributes)');
      else if (getcapMissing) ctx.error('/usr/sbin/getcap', 'ENOTOOL', 'getcap not found in /usr/sbin, /usr/bin, /sbin or /bin: file capabilities not checked');
    } finally {
      await pool.close();
    }
  },
});

/** Where the walk looks for what, decided before it starts. */
interface Selection {
  tempPrefixes: Buffer[];
  systemPrefixes: Buffer[];
  /** Start of the "recent" window, ms since the epoch. */
  cutoff: number;
}

type Report = (path: string | null, code: string, message: string) => void;

async function selection(host: Host, settings: CollectorSettings, report: Report): Promise<Selection> {
  const systemDirs = [...SYSTEM_DIRS, ...(await libDirs(host, '/', report)), ...(await libDirs(host, '/usr', report))];
  return {
    tempPrefixes: await canonicalPrefixes(host, TEMP_PLACES),
    systemPrefixes: await canonicalPrefixes(host, systemDirs),
    cutoff: Date.now() - settings.recentDays * 86_400_000,
  };
}

function walkOptions(host: Host, sel: Selection): Omit<WalkOptions, 'signal' | 'onError'> {
  return {
    roots: ['/'],
    // Decided on the walk's thread, so only these few thousand of the filesystem's entries come over.
    select: [
      // set-uid and set-gid files anywhere (hashed whatever they hold); on a live host every executable, for getcap
      { types: ['file'], modeAny: host.live ? 0o6111 : 0o6000 },
      // these are hashed only when they hold an ELF file or a script: their first bytes are read on the walk's thread
      { types: ['file', 'dir'], modeAny: 0o002, notInside: sel.tempPrefixes, sniff: true },
      { inside: sel.systemPrefixes, changedSinceMs: sel.cutoff, sniff: true },
    ],
  };
}

/** /lib, /lib32, /lib64, /libx32, /usr/lib, /usr/libexec… as the examined host has them. */
async function libDirs(host: Host, parentDir: string, report: Report): Promise<string[]> {
  try {
    const names = await host.readdir(parentDir);
    return names.filter((n) => n.startsWith('lib')).sort().map((n) => `${parentDir === '/' ? '' : parentDir}/${n}`);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT') report(parentDir, err.code, err.message);
    return [];
  }
}

/** Host paths of places after following links (/var/lock -> /run/lock, /bin -> /usr/bin), as bytes. */
async function canonicalPrefixes(host: Host, places: string[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const p of places) {
    try {
      const real = host.live ? await realpath(p) : await host.resolve(p);
      const canonical = host.live ? real : real.slice(host.root.length) || '/';
      if (!out.some((b) => b.toString() === canonical)) out.push(Buffer.from(canonical));
    } catch {
      // absent
    }
  }
  return out;
}

/** p is one of the prefixes or lies inside one. */
function underAny(p: Buffer, prefixes: Buffer[]): boolean {
  return prefixes.some((pre) => p.equals(pre)) || insideAny(p, prefixes);
}

/** p lies inside one of the prefixes (not equal to it). */
function insideAny(p: Buffer, prefixes: Buffer[]): boolean {
  return prefixes.some((pre) => p.length > pre.length && (p[pre.length] === 0x2f || (pre.length === 1 && pre[0] === 0x2f)) && p.subarray(0, pre.length).equals(pre));
}

const strict = new TextDecoder('utf-8', { fatal: true });
function isUtf8(b: Buffer): boolean {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
}

