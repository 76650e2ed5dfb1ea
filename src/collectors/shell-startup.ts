import { z } from 'zod';
import { classifyShellLine, isNotable } from '../host/shell-lines.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { FILE_COLUMNS, DirCache, describeFile, describeRawEntry, inBatches, lineText, listDir, rawLines, readUsers, type FileColumns } from './persistence-files.js';
import type { ReadResult } from '../host/host.js';

const Row = z.object({
  kind: z.enum(['file', 'line']).describe('file: a start-up file that exists (one row each); line: a line of it that can run something'),
  ...FILE_COLUMNS,
  scope: z.enum(['system', 'user']).describe('system: read by every login or interactive shell; user: in a home directory'),
  users: z.array(z.string()).describe('accounts (from the examined /etc/passwd) whose home holds this file; empty for system files'),
  shell: z.enum(['sh', 'fish', 'env']).describe('how the file is read: sh (sh, bash, zsh), fish, or env (/etc/environment, KEY=VALUE for pam_env)'),
  lineNumber: z.number().int().nullable().describe('line rows: 1-based line number'),
  raw: z.string().nullable().describe('line rows: the line exactly as in the file (a \\r that hides text from `cat` is kept; invalid UTF-8 as %XX)'),
  rawBase64: z.string().nullable().describe('line rows: the line\'s raw bytes in base64, only when they are not valid UTF-8'),
  lineKind: z
    .enum(['command', 'assignment', 'source', 'alias', 'function'])
    .nullable()
    .describe('line rows: command; source (. or source FILE); alias; function definition; assignment (only shown when it runs a command substitution or sets a variable that runs or steers code, e.g. PROMPT_COMMAND, LD_PRELOAD, PATH)'),
  name: z.string().nullable().describe('line rows: the variable assigned, or the alias or function defined'),
  target: z.string().nullable().describe('line rows of kind source: the file sourced, as written'),
  substitution: z.boolean().nullable().describe('line rows: whether the line holds $(…), `…` or <(…) (runs a command when the shell reads it)'),
});

type Row = z.infer<typeof Row>;

/** System-wide start-up files; directories are listed (every entry, not only *.sh: a file there that is not sourced is still worth seeing). */
const SYSTEM_FILES = [
  '/etc/profile',
  '/etc/bash.bashrc',
  '/etc/bashrc',
  '/etc/bash.bash_logout',
  '/etc/zshenv',
  '/etc/zprofile',
  '/etc/zshrc',
  '/etc/zlogin',
  '/etc/zlogout',
  '/etc/environment',
  '/etc/fish/config.fish',
];
const SYSTEM_DIRS = ['/etc/profile.d', '/etc/zsh', '/etc/fish/conf.d'];

/** Start-up files in a home directory (relative to it). */
const USER_FILES = [
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.profile',
  '.bash_logout',
  '.bash_aliases',
  '.zshrc',
  '.zprofile',
  '.zshenv',
  '.zlogin',
  '.zlogout',
  '.config/fish/config.fish',
];
const USER_DIR = '.config/fish/conf.d';

interface Target {
  path: string;
  scope: 'system' | 'user';
  users: string[];
  /** Set for entries found by listing a directory (their names may be invalid UTF-8). */
  dir?: string;
  rawName?: Buffer | null;
}

function shellOf(path: string): Row['shell'] {
  if (path === '/etc/environment') return 'env';
  return path.endsWith('.fish') || path.includes('/fish/') ? 'fish' : 'sh';
}

function rowsOf(t: Target, columns: FileColumns, read: ReadResult | null): Row[] {
  const shell = shellOf(t.path);
  const rows: Row[] = [
    { kind: 'file', ...columns, scope: t.scope, users: t.users, shell, lineNumber: null, raw: null, rawBase64: null, lineKind: null, name: null, target: null, substitution: null },
  ];
  if (!read) return rows;
  const lines = rawLines(read.data);
  for (let i = 0; i < lines.length; i++) {
    const { text, base64 } = lineText(lines[i]!);
    const c = classifyShellLine(text, shell);
    if (!c || !isNotable(c)) continue;
    // written out in full (no spreads): a file can give thousands of these
    rows.push({
      kind: 'line',
      path: columns.path,
      pathBase64: columns.pathBase64,
      fileType: null,
      symlinkTarget: null,
      resolvedPath: null,
      owner: null,
      ownerUid: null,
      mode: null,
      size: null,
      mtime: null,
      sha256: null,
      scope: t.scope,
      users: t.users,
      shell,
      lineNumber: i + 1,
      raw: text,
      rawBase64: base64,
      lineKind: c.kind,
      name: c.name,
      target: c.target,
      substitution: c.substitution,
    });
  }
  return rows;
}

async function targets(ctx: CollectorContext, dirs: DirCache): Promise<{ list: Target[]; names: Map<number, string> }> {
  const { entries, names } = await readUsers(ctx);
  const list: Target[] = SYSTEM_FILES.map((path) => ({ path, scope: 'system' as const, users: [] }));
  for (const dir of SYSTEM_DIRS) {
    for (const e of await listDir(ctx, dir)) list.push({ path: e.hostPath, scope: 'system', users: [], dir, rawName: e.rawName });
  }
  // one home can belong to several accounts (/nonexistent, /usr/sbin): read it once, name them all
  const homes = new Map<string, string[]>();
  for (const e of entries) {
    if (!e.home.startsWith('/')) continue;
    const home = e.home.length > 1 ? e.home.replace(/\/+$/, '') : e.home;
    homes.set(home, [...(homes.get(home) ?? []), e.name]);
  }
  const homeDirs: { dir: string; users: string[] }[] = [];
  for (const [home, users] of homes) {
    const base = home === '/' ? '' : home;
    for (const f of USER_FILES) list.push({ path: `${base}/${f}`, scope: 'user', users });
    homeDirs.push({ dir: `${base}/${USER_DIR}`, users });
  }
  // ~/.config/fish/conf.d in every home: listed concurrently (most are missing)
  const listed = async (h: { dir: string; users: string[] }) => [h, (await dirs.has(h.dir)) === false ? [] : await listDir(ctx, h.dir)] as const;
  for await (const [d, entries] of inBatches(homeDirs, 16, listed, ctx.signal)) {
    for (const e of entries) list.push({ path: e.hostPath, scope: 'user', users: d.users, dir: d.dir, rawName: e.rawName });
  }
  return { list, names };
}

export const shellStartupCollector = defineCollector({
  name: 'shell-startup',
  title: 'Shell start-up files',
  description:
    'Files every login or interactive shell reads: /etc/profile, /etc/profile.d, bash.bashrc, zsh and fish configuration, ' +
    '/etc/environment, and each account\'s ~/.bashrc, ~/.profile, ~/.bash_profile, ~/.bash_login, ~/.bash_logout, ' +
    '~/.bash_aliases, zsh and fish files (homes from the examined /etc/passwd, root included). One file row each (owner, ' +
    'mode, mtime, SHA-256, whether it is a symlink) and a line row for every line that can run something: commands, sourced ' +
    'files, functions, aliases, command substitutions and assignments to PROMPT_COMMAND, LD_PRELOAD, PATH, BASH_ENV and the ' +
    'like; plain NAME=value settings are left out (the raw copy has them). Look for downloads piped to a shell, background ' +
    'jobs started from a profile, aliases over sudo or ssh, sourced files in /tmp or /dev/shm, history switched off, and ' +
    'files changed recently or owned by another user. Raw copies of every file are kept.',
  preconditions: 'Any host; root to read every home directory. Works the same on a mounted image (--root).',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const dirs = new DirCache(ctx);
    const { list, names } = await targets(ctx, dirs);
    const seen = new Set<string>();
    const unique = list.filter((t) => !seen.has(t.path) && seen.add(t.path));
    const rowsFor = async (t: Target): Promise<Row[]> => {
      if (t.dir && t.rawName) {
        const d = await describeRawEntry(ctx, t.dir, { hostPath: t.path, name: t.path, rawName: t.rawName }, names);
        return d ? rowsOf(t, d.columns, d.read) : [];
      }
      if (!t.dir && (await dirs.has(t.path)) === false) return [];
      const d = await describeFile(ctx, t.path, names);
      return d ? rowsOf(t, d.columns, d.read) : [];
    };
    for await (const rows of inBatches(unique, 16, rowsFor, ctx.signal)) yield* rows;
  },
});
