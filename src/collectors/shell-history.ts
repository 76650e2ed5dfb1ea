import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { pathKind, type PathKind } from '../host/file-kind.js';
import { HISTORY_FILES, historyFacts, type HistoryFormat } from '../host/history.js';
import { HostReadError } from '../host/host.js';
import { parsePasswd } from '../host/passwd.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';

const Row = z.object({
  user: z.string().nullable().describe('account whose home holds the file (the one owning the file when several share the home); null for a /home directory no account claims'),
  uid: z.number().int().nullable().describe('uid of that account'),
  home: z.string().describe('home directory searched'),
  present: z.boolean().describe('false: a row saying this home of an account with a login shell holds none of the history files looked for'),
  path: z.string().describe('the history file (or the home, when present is false)'),
  format: z.string().nullable().describe('bash, zsh, fish, sh, python, mysql, psql, less, vim, node, redis'),
  kind: z.string().nullable().describe('what the path itself is: file, symlink, fifo, directory, char-device…'),
  linkTarget: z.string().nullable().describe('where a symlink points: /dev/null is the classic way to stop history being written'),
  targetKind: z.string().nullable().describe('what the path is after following links (char-device for /dev/null, missing for a dangling link)'),
  size: z.number().int().nullable().describe('size in bytes of the file read'),
  mtime: z.string().nullable().describe('last modification time (UTC): roughly when the last session using it ended'),
  ctime: z.string().nullable().describe('last status change (UTC): a ctime later than mtime can mean it was truncated or its owner/mode changed'),
  mode: z.string().nullable().describe('permission bits in octal'),
  ownerUid: z.number().int().nullable().describe('owner uid of the file'),
  sha256: z.string().nullable().describe('SHA-256 of the bytes read (the whole file unless truncated)'),
  empty: z.boolean().nullable().describe('the file is zero bytes: cleared (history -c; > file) or never written'),
  lineCount: z.number().int().nullable().describe('lines in the bytes read'),
  timestamps: z.number().int().nullable().describe('lines carrying a timestamp (bash with HISTTIMEFORMAT, zsh extended history, fish)'),
  firstTime: z.string().nullable().describe('UTC time of the first timestamp, in file order'),
  lastTime: z.string().nullable().describe('UTC time of the last timestamp, in file order'),
  truncated: z.boolean().nullable().describe('the file was larger than the cap and only its start was read and copied'),
  copied: z.boolean().describe('a raw copy of the file is in the bundle'),
});

type HistoryRow = z.infer<typeof Row>;

const NOLOGIN = new Set(['nologin', 'false', 'sync', 'shutdown', 'halt']);
const READ_CAP = 64 * 1024 * 1024;

interface Home {
  home: string;
  users: { name: string; uid: number; loginShell: boolean }[];
}

async function kindOf(ctx: CollectorContext, hostPath: string): Promise<PathKind | null> {
  try {
    return await pathKind(ctx.host, hostPath);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    ctx.error(hostPath, err.code, err.message);
    return null;
  }
}

/** Every home to search: each account's (from the examined passwd), /root, and /home directories no account claims. */
async function homesOf(ctx: CollectorContext): Promise<Home[]> {
  const homes = new Map<string, Home>();
  const add = (raw: string, user?: Home['users'][number]) => {
    if (!raw.startsWith('/')) return;
    const home = path.posix.normalize(raw).replace(/(.)\/+$/, '$1');
    const h = homes.get(home) ?? { home, users: [] };
    if (user) h.users.push(user);
    homes.set(home, h);
  };
  const read = await ctx.read('/etc/passwd', { keep: false });
  if (read) {
    for (const e of parsePasswd(read.data.toString('latin1')).entries) {
      const home = encodeHostPath(Buffer.from(e.home, 'latin1'));
      if (home.base64) continue; // not reachable through a string path
      const name = encodeHostPath(Buffer.from(e.name, 'latin1')).text;
      const shell = e.shell === '' ? 'sh' : path.posix.basename(e.shell);
      add(home.text, { name, uid: e.uid, loginShell: !NOLOGIN.has(shell) });
    }
  }
  add('/root');
  try {
    for (const d of await ctx.host.readdir('/home')) add(`/home/${d}`);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') ctx.error('/home', err.code, err.message);
  }
  return [...homes.values()];
}

function iso(d: Date | undefined): string | null {
  return d ? d.toISOString() : null;
}

async function historyRow(ctx: CollectorContext, h: Home, p: string, format: HistoryFormat, k: PathKind): Promise<HistoryRow> {
  const cap = Math.min(ctx.settings.logMaxBytes, READ_CAP);
  const read = k.targetKind === 'file' ? await ctx.read(p, { maxBytes: cap }) : null;
  const st = read?.facts ?? k.stats;
  const owner = st ? h.users.find((u) => u.uid === st.uid) : undefined;
  const user = owner ?? h.users[0];
  const facts = read ? historyFacts(read.data, format) : null;
  return {
    user: user?.name ?? null,
    uid: user?.uid ?? null,
    home: h.home,
    present: true,
    path: p,
    format,
    kind: k.kind,
    linkTarget: k.linkTarget,
    targetKind: k.targetKind,
    size: st ? Number(st.size) : null,
    mtime: iso(st?.mtime),
    ctime: iso(st?.ctime),
    mode: st ? `0${(Number(st.mode) & 0o7777).toString(8).padStart(3, '0')}` : null,
    ownerUid: st ? Number(st.uid) : null,
    sha256: read ? createHash('sha256').update(read.data).digest('hex') : null,
    empty: read ? read.facts.size === 0 : null,
    lineCount: facts?.lines ?? null,
    timestamps: facts?.timestamps ?? null,
    firstTime: facts?.firstTime ?? null,
    lastTime: facts?.lastTime ?? null,
    truncated: read ? read.truncated : null,
    copied: read !== null,
  };
}

export const shellHistoryCollector = defineCollector({
  name: 'shell-history',
  title: 'Shell and REPL histories',
  description:
    'One row per history file found in every home of the examined passwd (and /root, and /home directories no account ' +
    'claims): bash, zsh, fish, sh/ash, python, mysql, psql, less, vim, node and redis-cli histories, with size, times, ' +
    'SHA-256, line count and, where the format keeps them, the first and last command times. Each file is copied raw ' +
    '(commands are read there, not in rows). Look for a history that is a symlink to /dev/null, empty or truncated (ctime ' +
    'after the intrusion), missing for an account that logs in (a row with present=false), owned by someone else, or ' +
    'with commands timed in the incident window; then read the copy for downloads, reverse shells, history -c, unset HISTFILE.',
  preconditions: 'Any host or --root image; reading other users\' homes needs root. HISTFILE set elsewhere in a profile is not followed.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const searched = new Set<string>();
    for (const h of await homesOf(ctx)) {
      if (ctx.signal.aborted) return;
      const hk = await kindOf(ctx, h.home);
      if (!hk || hk.targetKind !== 'directory') continue;
      // two spellings of one directory (a symlinked /home, "/root" and "/root/.") are searched once
      const real = await ctx.host
        .resolve(h.home)
        .then((r) => fsp.realpath(r))
        .catch(() => h.home);
      if (searched.has(real)) continue;
      searched.add(real);
      const paths = HISTORY_FILES.map((f) => ({ ...f, path: path.posix.join(h.home, f.rel) }));
      const kinds = await Promise.all(paths.map((f) => kindOf(ctx, f.path)));
      let found = 0;
      for (const [i, f] of paths.entries()) {
        const k = kinds[i];
        if (!k || k.kind === 'missing') continue;
        found++;
        yield await historyRow(ctx, h, f.path, f.format, k);
      }
      const claimed = h.users.length === 0 || h.users.some((u) => u.loginShell) || h.home === '/root';
      if (found === 0 && claimed) {
        const user = h.users.find((u) => u.loginShell) ?? h.users[0];
        yield {
          user: user?.name ?? null,
          uid: user?.uid ?? null,
          home: h.home,
          present: false,
          path: h.home,
          format: null,
          kind: hk.kind,
          linkTarget: hk.linkTarget,
          targetKind: hk.targetKind,
          size: null,
          mtime: iso(hk.stats?.mtime),
          ctime: iso(hk.stats?.ctime),
          mode: hk.stats ? `0${(hk.stats.mode & 0o7777).toString(8).padStart(3, '0')}` : null,
          ownerUid: hk.stats?.uid ?? null,
          sha256: null,
          empty: null,
          lineCount: null,
          timestamps: null,
          firstTime: null,
          lastTime: null,
          truncated: null,
          copied: false,
        };
      }
    }
  },
});
