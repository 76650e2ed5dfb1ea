import { closeSync, lstatSync, readlinkSync } from 'node:fs';
import { z } from 'zod';
import { ContentReadError, openRegularNoFollow } from '../host/content-kind.js';
import { hasFilesOnDisk, parseDiversions, parseDpkgStatus, type DpkgDiversion, type DpkgPackage } from '../host/dpkg-status.js';
import { HashError, HashPool } from '../host/hash-pool.js';
import { HostReadError, type ReadResult } from '../host/host.js';
import { parseMd5sums } from '../host/md5sums.js';
import { parseRpmVerify } from '../host/rpm-verify.js';
import { encodeHostPath } from '../lib/host-path.js';
import { errnoCode } from '../lib/user-error.js';
import type { CollectorContext } from './collector.js';
import { defineCollector } from './collector.js';

/** A changed packaged file is copied into the bundle up to this size: replaced binaries and libraries are far smaller. */
const COPY_MAX_MIB = 128;

const Row = z.object({
  kind: z.enum(['package', 'file']).describe('package: one installed package (dpkg); file: a packaged file that differs from what the package manager recorded'),
  manager: z.enum(['dpkg', 'rpm']).describe('package manager whose records were used'),
  package: z.string().nullable().describe('package name (null for rpm file rows: rpm -Va does not name the package)'),
  version: z.string().nullable().describe('package rows: installed version'),
  arch: z.string().nullable().describe('package rows: architecture'),
  status: z.string().nullable().describe('package rows: dpkg Status field (want flag state, e.g. "install ok installed"; "deinstall ok config-files" = removed, configuration left)'),
  filesChecked: z.number().int().nullable().describe('package rows: how many of its files were hashed (default scope unless --deep) plus its conffiles'),
  filesChanged: z.number().int().nullable().describe('package rows: of those, how many differ (conffiles included)'),
  filesMissing: z.number().int().nullable().describe('package rows: of those, how many are gone'),
  md5sumsFile: z.string().nullable().describe('package rows: the md5sums list used; null when the package has none (nothing of it could be checked)'),
  path: z.string().nullable().describe('file rows: the packaged path (%XX for bytes that are not UTF-8)'),
  pathBase64: z.string().nullable().describe('file rows: exact path bytes in base64, only when not valid UTF-8'),
  result: z
    .enum(['changed', 'missing', 'not-regular', 'metadata', 'unreadable'])
    .nullable()
    .describe('file rows: changed (content differs), missing, not-regular (replaced by a symlink, directory or device), metadata (rpm: mode, owner, link or capabilities differ, content the same), unreadable (see errors)'),
  conffile: z.boolean().nullable().describe('file rows: a configuration file (dpkg Conffiles, rpm %config): administrators change these on purpose, so a difference is expected more often'),
  expectedMd5: z.string().nullable().describe('file rows (dpkg): MD5 the package recorded'),
  actualMd5: z.string().nullable().describe('file rows (dpkg): MD5 of the file on disk now'),
  divertedTo: z.string().nullable().describe('file rows (dpkg): the file was diverted (dpkg-divert) and was checked at this path instead'),
  detail: z.string().nullable().describe('file rows: rpm\'s verify flags (S size, M mode, 5 digest, L link, U user, G group, T mtime, P caps) or what replaced the file'),
  copied: z.boolean().nullable().describe(`file rows (changed): the file as it is now was copied into the bundle under files/ (up to ${COPY_MAX_MIB} MiB), so a replaced binary can be examined and its hash checked against the bundle`),
});

type Row = z.infer<typeof Row>;

const DPKG_STATUS = '/var/lib/dpkg/status';
const DPKG_INFO = '/var/lib/dpkg/info';
const RPM_DBS = ['/var/lib/rpm/rpmdb.sqlite', '/usr/lib/sysimage/rpm/rpmdb.sqlite', '/var/lib/rpm/Packages', '/var/lib/rpm/Packages.db', '/usr/lib/sysimage/rpm/Packages.db'];

/**
 * What intruders replace: anything in a bin or sbin directory, PAM modules,
 * shared libraries (a trojaned libc, libpam, libkeyutils, libaudit), and sshd.
 */
export function inDefaultScope(path: Buffer): boolean {
  const p = path.toString('latin1');
  if (/^\/(usr\/)?(local\/)?s?bin\//.test(p)) return true;
  if (/^\/(usr\/)?lib[^/]*\/(.+\/)?security\//.test(p)) return true;
  const base = p.slice(p.lastIndexOf('/') + 1);
  return /\.so(\.[^/]*)?$/.test(base) || p === '/usr/sbin/sshd';
}

const emptyRow = {
  version: null, arch: null, status: null, filesChecked: null, filesChanged: null, filesMissing: null, md5sumsFile: null,
  path: null, pathBase64: null, result: null, conffile: null, expectedMd5: null, actualMd5: null, divertedTo: null, detail: null, copied: null,
} as const;

export const packagesCollector = defineCollector({
  name: 'packages',
  title: 'Installed packages and changed packaged files',
  description:
    'Installed packages from /var/lib/dpkg/status (name, version, architecture, state), and every packaged file whose ' +
    'content no longer matches the MD5 that dpkg recorded in /var/lib/dpkg/info/*.md5sums, or that is missing or was ' +
    'replaced by a link or another kind of file. By default only what intruders replace is hashed: files in /bin, /sbin, ' +
    '/usr/bin, /usr/sbin (and /usr/local), PAM modules (lib*/…/security), shared libraries (*.so*) and sshd; --deep hashes ' +
    'every file of every package. Conffiles are always checked and flagged (conffile: true), since administrators edit ' +
    'them. Hard links are hashed once. Diversions (dpkg-divert) are followed and shown. A changed /usr/bin/ps, ls, ss, ' +
    'netstat, sshd, login, a PAM module or libc is a rootkit until proven otherwise. Beware: the md5sums live on the same ' +
    'disk and a careful intruder updates them too; compare with the .deb from a mirror for certainty. On RHEL-family ' +
    'hosts `rpm -Va --nomtime --noscripts --nodeps` is run (live only) and its output parsed.',
  preconditions:
    'Debian/Ubuntu (dpkg) on a live host or --root; root to read every file. RPM hosts: live only and needs the rpm ' +
    'program (Node 20 cannot read rpmdb.sqlite or Berkeley DB), recorded as an external tool; on --root they are not checked.',
  timeoutMs: 180_000,
  // Its work is hashing (on a hashing thread, or between the main thread's other work) and waiting for it, while
  // the file-scan walk runs on a thread of its own: both start right after the volatile collectors.
  alongside: true,
  row: Row,
  async *collect(ctx) {
    const status = await ctx.read(DPKG_STATUS, { maxBytes: 256 * 1024 * 1024 });
    if (status) yield* dpkg(ctx, status);
    yield* rpm(ctx);
  },
});

interface Check {
  pkg: DpkgPackage;
  path: Buffer;
  expected: string;
  conffile: boolean;
}

interface Outcome {
  result: 'ok' | 'changed' | 'missing' | 'not-regular' | 'unreadable';
  actual: string | null;
  detail: string | null;
  checkedPath: Buffer;
  divertedTo: DpkgDiversion | null;
}

async function* dpkg(ctx: CollectorContext, statusRead: ReadResult): AsyncGenerator<Row> {
  const { packages, bad } = parseDpkgStatus(statusRead.data.toString('utf8'));
  if (bad.length > 0) ctx.error(DPKG_STATUS, 'EPARSE', `${bad.length} line(s) do not parse, first at line ${bad[0]}`);
  const diversions = new Map<string, DpkgDiversion>();
  const divRead = await ctx.read('/var/lib/dpkg/diversions', { maxBytes: 16 * 1024 * 1024 });
  if (divRead) for (const d of parseDiversions(divRead.data.toString('utf8')).diversions) diversions.set(d.from, d);
  let info = new Set<string>();
  try {
    info = new Set(await ctx.host.readdir(DPKG_INFO));
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    ctx.error(DPKG_INFO, err.code, err.message);
  }

  const pool = HashPool.open();
  // Enough files queued that the hashing threads never wait while this thread reads the next md5sums list.
  const inflightLimit = Math.max(1, pool.threads) * 16;
  const cache = new Map<string, Promise<{ md5: string } | { error: string }>>();
  try {
    interface Acc {
      pkg: DpkgPackage;
      md5sumsFile: string | null;
      md5sumsRead: ReadResult | null;
      pending: number;
      queued: boolean;
      checked: number;
      changed: number;
      missing: number;
      rows: Row[];
    }
    const order: Acc[] = [];
    const inflight = new Set<Promise<void>>();

    const flush = async function* (): AsyncGenerator<Row> {
      while (order.length > 0 && order[0]!.queued && order[0]!.pending === 0) {
        const a = order.shift()!;
        yield {
          ...emptyRow,
          kind: 'package',
          manager: 'dpkg',
          package: a.pkg.name,
          version: a.pkg.version,
          arch: a.pkg.arch,
          status: a.pkg.status,
          filesChecked: hasFilesOnDisk(a.pkg.state) ? a.checked : null,
          filesChanged: hasFilesOnDisk(a.pkg.state) ? a.changed : null,
          filesMissing: hasFilesOnDisk(a.pkg.state) ? a.missing : null,
          md5sumsFile: a.md5sumsFile,
        };
        yield* a.rows;
        // The list a changed file was judged against is evidence too.
        if (a.md5sumsRead && a.rows.length > 0) await ctx.keepCopy(a.md5sumsRead);
      }
    };

    // Packages whose checks are done wait in `order` behind slower ones; only a list that a changed file was
    // judged against is kept for the bundle, the others are let go at once.
    const release = (acc: Acc) => {
      if (acc.queued && acc.pending === 0 && acc.rows.length === 0) acc.md5sumsRead = null;
    };

    const submit = (acc: Acc, check: Check) => {
      acc.pending++;
      const p: Promise<void> = checkFile(ctx, pool, cache, diversions, check)
        .then(async (o) => {
          acc.checked++;
          if (o.result === 'ok') return;
          if (o.result === 'missing') acc.missing++;
          else acc.changed++;
          // The evidence itself, not only its hash: a replaced ps or sshd is what the analyst will want to open.
          const copied = o.result === 'changed' ? await copyChanged(ctx, o.checkedPath) : null;
          const shown = encodeHostPath(check.path);
          acc.rows.push({
            ...emptyRow,
            kind: 'file',
            manager: 'dpkg',
            package: check.pkg.name,
            path: shown.text,
            pathBase64: shown.base64 ?? null,
            result: o.result,
            conffile: check.conffile,
            expectedMd5: check.expected,
            actualMd5: o.actual,
            divertedTo: o.divertedTo?.to ?? null,
            detail: o.detail,
            copied,
          });
        })
        .finally(() => {
          acc.pending--;
          release(acc);
          inflight.delete(p);
        });
      inflight.add(p);
    };

    for (const pkg of packages) {
      if (ctx.signal.aborted) return;
      const acc: Acc = { pkg, md5sumsFile: null, md5sumsRead: null, pending: 0, queued: false, checked: 0, changed: 0, missing: 0, rows: [] };
      order.push(acc);
      if (hasFilesOnDisk(pkg.state)) {
        const queue = async (check: Check) => {
          while (inflight.size >= inflightLimit) await Promise.race(inflight);
          submit(acc, check);
        };
        const name = [`${pkg.name}:${pkg.arch ?? ''}.md5sums`, `${pkg.name}.md5sums`].find((n) => info.has(n));
        if (name) {
          acc.md5sumsFile = `${DPKG_INFO}/${name}`;
          const read = await ctx.read(acc.md5sumsFile, { keep: false, maxBytes: 64 * 1024 * 1024 });
          if (read) {
            acc.md5sumsRead = read;
            // A list can hold tens of thousands of files (google-cloud-cli: 45,000): parsed a slice at a time,
            // only the slice's entries are ever held, whatever the list's size.
            const bad: number[] = [];
            for (const { slice, linesBefore } of lineSlices(read.data, MD5SUMS_SLICE_BYTES)) {
              const parsed = parseMd5sums(slice);
              bad.push(...parsed.bad.map((n) => n + linesBefore));
              for (const e of parsed.entries) if (ctx.settings.deep || inDefaultScope(e.path)) await queue({ pkg, path: e.path, expected: e.md5, conffile: false });
            }
            if (bad.length > 0) ctx.error(acc.md5sumsFile, 'EPARSE', `${bad.length} line(s) do not parse, first at line ${bad[0]}`);
          }
        }
        for (const c of pkg.conffiles) {
          if (c.obsolete || !/^[0-9a-f]{32}$/.test(c.md5)) continue;
          await queue({ pkg, path: Buffer.from(c.path), expected: c.md5, conffile: true });
        }
      }
      acc.queued = true;
      release(acc);
      yield* flush();
    }
    while (inflight.size > 0) {
      await Promise.race(inflight);
      yield* flush();
    }
    yield* flush();
  } finally {
    await pool.close();
  }
}

const MD5SUMS_SLICE_BYTES = 256 * 1024;

/** A list cut at line ends into slices of about `bytes`, with how many lines came before each. */
function* lineSlices(data: Buffer, bytes: number): Generator<{ slice: Buffer; linesBefore: number }> {
  let start = 0;
  let linesBefore = 0;
  while (start < data.length) {
    let end = start + bytes >= data.length ? data.length : data.indexOf(0x0a, start + bytes);
    end = end === -1 ? data.length : end + (end < data.length ? 1 : 0);
    const slice = data.subarray(start, end);
    yield { slice, linesBefore };
    for (let i = slice.indexOf(0x0a); i !== -1; i = slice.indexOf(0x0a, i + 1)) linesBefore++;
    start = end;
  }
}

async function copyChanged(ctx: CollectorContext, hostPath: Buffer): Promise<boolean> {
  const shown = encodeHostPath(hostPath);
  if (shown.base64) {
    ctx.error(shown.text, 'EBADNAME', 'changed packaged file whose name is not valid UTF-8: not copied');
    return false;
  }
  return ctx.copyFile(shown.text, { maxBytes: COPY_MAX_MIB * 1024 * 1024 });
}

async function checkFile(
  ctx: CollectorContext,
  pool: HashPool,
  cache: Map<string, Promise<{ md5: string } | { error: string }>>,
  diversions: Map<string, DpkgDiversion>,
  check: Check,
): Promise<Outcome> {
  const text = check.path.toString('utf8');
  const div = diversions.get(text);
  const diverted = div && div.by !== check.pkg.name ? div : null;
  const target = diverted ? Buffer.from(diverted.to) : check.path;
  const outcome = (result: Outcome['result'], actual: string | null = null, detail: string | null = null): Outcome => ({ result, actual, detail, checkedPath: target, divertedTo: diverted });

  let real: Buffer;
  try {
    real = ctx.host.live ? target : Buffer.from(await ctx.host.resolve(target.toString('utf8'), false));
  } catch (err) {
    const code = err instanceof HostReadError ? err.code : (errnoCode(err) ?? 'EIO');
    if (code === 'ENOENT' || code === 'ENOTDIR') return outcome('missing');
    ctx.error(encodeHostPath(target).text, code, `packaged file not checked (${code})`);
    return outcome('unreadable', null, code);
  }
  const st = (() => {
    try {
      return lstatSync(real, { throwIfNoEntry: false }) ?? null;
    } catch (err) {
      return { error: errnoCode(err) ?? 'EIO' };
    }
  })();
  if (st === null) return outcome('missing');
  if ('error' in st) {
    if (st.error === 'ENOTDIR') return outcome('missing');
    ctx.error(encodeHostPath(target).text, st.error, `packaged file not checked (${st.error})`);
    return outcome('unreadable', null, st.error);
  }
  if (!st.isFile()) {
    let what = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : 'device';
    if (st.isSymbolicLink()) {
      try {
        what += ` -> ${encodeHostPath(readlinkSync(real, { encoding: 'buffer' })).text}`;
      } catch {
        // vanished
      }
    }
    return outcome('not-regular', null, what);
  }
  const key = `${st.dev}:${st.ino}`;
  let hashed = cache.get(key);
  if (!hashed) {
    hashed = (async () => {
      let fd: number;
      try {
        fd = openRegularNoFollow(real, st).fd;
      } catch (err) {
        return { error: err instanceof ContentReadError ? err.code : (errnoCode(err) ?? 'EIO') };
      }
      try {
        return { md5: (await pool.hash(fd, ['md5'])).digests[0]! };
      } catch (err) {
        return { error: err instanceof HashError ? err.code : (errnoCode(err) ?? 'EIO') };
      } finally {
        closeSync(fd);
      }
    })();
    cache.set(key, hashed);
  }
  const h = await hashed;
  if ('error' in h) {
    if (h.error === 'ENOENT') return outcome('missing');
    if (h.error !== 'ECLOSED') ctx.error(encodeHostPath(target).text, h.error, `packaged file not hashed (${h.error})`);
    return outcome('unreadable', null, h.error);
  }
  return h.md5 === check.expected ? outcome('ok', h.md5) : outcome('changed', h.md5);
}

async function* rpm(ctx: CollectorContext): AsyncGenerator<Row> {
  let db: string | null = null;
  for (const p of RPM_DBS) {
    try {
      await ctx.host.lstat(p);
      db = p;
      break;
    } catch {
      // not this one
    }
  }
  if (!db) return;
  if (!ctx.host.live) {
    ctx.error(db, 'ENOTCHECKED', 'rpm database present: packaged files not checked on --root (Node 20 cannot read rpmdb.sqlite or Berkeley DB; rpm runs only on a live host)');
    return;
  }
  const run = await ctx.runTool('rpm', ['-Va', '--nomtime', '--noscripts', '--nodeps'], {
    purpose: 'verify installed files against the rpm database (no %verify scripts run)',
    timeoutMs: 170_000,
  });
  if (!run) {
    ctx.error(db, 'ENOTOOL', 'rpm database present but no rpm program in a system directory: packaged files not checked');
    return;
  }
  const { entries, bad } = parseRpmVerify(run.stdout);
  if (bad.length > 0) ctx.error(run.path, 'EPARSE', `${bad.length} rpm -Va line(s) not understood, first: ${bad[0]!.text.slice(0, 200)}`);
  for (const e of entries) {
    if (!ctx.settings.deep && !inDefaultScope(e.path) && e.attr !== 'c') continue;
    const shown = encodeHostPath(e.path);
    const result = e.missing ? 'missing' : e.digestDiffers || e.sizeDiffers ? 'changed' : 'metadata';
    yield {
      ...emptyRow,
      kind: 'file',
      manager: 'rpm',
      package: null,
      path: shown.text,
      pathBase64: shown.base64 ?? null,
      result,
      conffile: e.attr === 'c',
      detail: e.flags,
      copied: result === 'changed' ? await copyChanged(ctx, e.path) : null,
    };
  }
}
