import { z } from 'zod';
import { optionValue, parseAuthorizedKeyLine } from '../host/authorized-keys.js';
import type { PasswdEntry } from '../host/passwd.js';
import { DEFAULT_AUTHORIZED_KEYS_FILES, expandKeysPath, expandSshdConfig, type SshdDirective } from '../host/sshd-config.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { DirCache, FILE_COLUMNS, NO_FILE, describeFile, globHost, inBatches, lineText, rawLines, readUsers, type FileColumns } from './persistence-files.js';

const Row = z.object({
  kind: z
    .enum(['config', 'file', 'key', 'bad-line'])
    .describe('config: an sshd_config directive about key logins (or the built-in default); file: an authorized keys file (or the AuthorizedKeysCommand program); key: one key; bad-line: a line sshd would not accept as a key'),
  ...FILE_COLUMNS,
  users: z.array(z.string()).describe('accounts the keys file is read for (the examined /etc/passwd); for config rows of AuthorizedKeysCommand, the AuthorizedKeysCommandUser'),
  via: z.array(z.string()).describe('file, key and bad-line rows: the AuthorizedKeysFile patterns (or "default …") that lead to this file'),
  readBySshd: z.boolean().nullable().describe('file, key and bad-line rows: whether sshd reads this file per its configuration (false for authorized_keys/authorized_keys2 checked although AuthorizedKeysFile no longer names them; under a Match block only for matching logins)'),
  match: z.string().nullable().describe('the sshd_config Match criteria the directive (or the pattern that found the file) is under; null when global'),
  keyword: z.string().nullable().describe('config rows: the directive (AuthorizedKeysFile, AuthorizedKeysCommand, PubkeyAuthentication…)'),
  value: z.string().nullable().describe('config rows: its arguments as sshd split them, joined by spaces; "(default) …" when sshd_config does not set it'),
  effective: z.boolean().nullable().describe('config rows: whether this is the value sshd uses outside Match blocks (sshd takes the first one it reads)'),
  lineNumber: z.number().int().nullable().describe('key, bad-line and config rows: 1-based line in path'),
  raw: z.string().nullable().describe('key and bad-line rows: the line exactly as written (invalid UTF-8 as %XX)'),
  keyType: z.string().nullable().describe('key rows: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, sk-… or a -cert-v01 type'),
  fingerprint: z.string().nullable().describe('key rows: SHA256:… fingerprint of the key, as ssh-keygen -l and sshd\'s logs print it'),
  comment: z.string().nullable().describe('key rows: the comment after the key (chosen by whoever added it)'),
  options: z
    .array(z.object({ name: z.string().describe('option name'), value: z.string().nullable().describe('unquoted value, or null for a flag') }))
    .nullable()
    .describe('key rows: the key options in order (command="…", from="…", environment="…", no-pty, restrict…)'),
  forcedCommand: z.string().nullable().describe('key rows: the command= option: what runs whatever the client asks (a backdoor shell or a tunnel)'),
  from: z.string().nullable().describe('key rows: the from= option: the client addresses or names the key is limited to'),
  reason: z.string().nullable().describe('bad-line rows: why sshd would not use the line'),
});

type Row = z.infer<typeof Row>;

const BLANK = {
  users: [] as string[],
  via: [] as string[],
  readBySshd: null,
  match: null,
  keyword: null,
  value: null,
  effective: null,
  lineNumber: null,
  raw: null,
  keyType: null,
  fingerprint: null,
  comment: null,
  options: null,
  forcedCommand: null,
  from: null,
  reason: null,
};

/** sshd_config directives that decide which keys log in. */
const KEY_DIRECTIVES = new Set([
  'authorizedkeysfile',
  'authorizedkeyscommand',
  'authorizedkeyscommanduser',
  'authorizedprincipalsfile',
  'authorizedprincipalscommand',
  'authorizedprincipalscommanduser',
  'trustedusercakeys',
  'pubkeyauthentication',
  'permitrootlogin',
  'match',
  'include',
]);

interface Candidate {
  path: string;
  users: Set<string>;
  via: Set<string>;
  match: string | null;
  readBySshd: boolean;
  /** Read outside any Match block. */
  global: boolean;
}

async function readConfig(ctx: CollectorContext) {
  return expandSshdConfig('/etc/ssh/sshd_config', {
    read: async (p) => (await ctx.read(p, { maxBytes: 4 * 1024 * 1024 }))?.data.toString('utf8') ?? null,
    glob: (p) => globHost(ctx, p),
  });
}

function configRows(directives: SshdDirective[]): Row[] {
  const rows: Row[] = [];
  const firstGlobal = new Map<string, SshdDirective>();
  for (const d of directives) if (d.match === null && !firstGlobal.has(d.key)) firstGlobal.set(d.key, d);
  for (const d of directives) {
    if (!KEY_DIRECTIVES.has(d.key)) continue;
    rows.push({
      kind: 'config',
      ...NO_FILE,
      path: d.file,
      ...BLANK,
      match: d.match,
      keyword: d.keyword,
      value: d.args.join(' '),
      effective: d.key === 'match' || d.key === 'include' ? null : d.match === null ? firstGlobal.get(d.key) === d : false,
      lineNumber: d.line,
      raw: d.raw,
    });
  }
  if (!firstGlobal.has('authorizedkeysfile')) {
    rows.push({ kind: 'config', ...NO_FILE, path: '/etc/ssh/sshd_config', ...BLANK, keyword: 'AuthorizedKeysFile', value: `(default) ${DEFAULT_AUTHORIZED_KEYS_FILES.join(' ')}`, effective: true });
  }
  return rows;
}

/**
 * Every keys file to look at, for every account: the patterns sshd uses
 * outside Match blocks (AuthorizedKeysFile, else the defaults), each Match
 * block's patterns (with its condition), and authorized_keys/authorized_keys2
 * even when the configuration no longer names them (intruders plant keys there
 * too; readBySshd tells whether sshd would read the file).
 */
function candidates(directives: SshdDirective[], users: PasswdEntry[]): Candidate[] {
  const global = directives.find((d) => d.key === 'authorizedkeysfile' && d.match === null);
  const patterns: { pattern: string; match: string | null; via: string; read: boolean }[] = [];
  if (global) for (const p of global.args) patterns.push({ pattern: p, match: null, via: p, read: true });
  for (const p of DEFAULT_AUTHORIZED_KEYS_FILES) {
    if (!global) patterns.push({ pattern: p, match: null, via: `default ${p}`, read: true });
    else if (!global.args.includes(p)) patterns.push({ pattern: p, match: null, via: `${p} (not in AuthorizedKeysFile; checked anyway)`, read: false });
  }
  for (const d of directives) {
    if (d.key === 'authorizedkeysfile' && d.match !== null) for (const p of d.args) patterns.push({ pattern: p, match: d.match, via: p, read: true });
  }
  const byPath = new Map<string, Candidate>();
  for (const u of users) {
    if (!u.home.startsWith('/')) continue;
    for (const { pattern, match, via, read } of patterns) {
      if (pattern.toLowerCase() === 'none') continue;
      const p = expandKeysPath(pattern, { name: u.name, uid: u.uid, home: u.home });
      let c = byPath.get(p);
      if (!c) {
        c = { path: p, users: new Set<string>(), via: new Set<string>(), match, readBySshd: false, global: false };
        byPath.set(p, c);
      }
      c.users.add(u.name);
      c.via.add(via);
      c.readBySshd ||= read;
      if (match === null && read) c.global = true;
      // the wider fact wins: a path sshd reads for everyone is not "only under Match"
      c.match = c.global ? null : (c.match ?? match);
    }
  }
  return [...byPath.values()];
}

function keyRows(c: Candidate, columns: FileColumns, data: Buffer): Row[] {
  const rows: Row[] = [];
  const common = { ...BLANK, users: [...c.users], via: [...c.via], readBySshd: c.readBySshd, match: c.match };
  rawLines(data).forEach((buf, i) => {
    const { text } = lineText(buf);
    const r = parseAuthorizedKeyLine(text, i + 1);
    if (!r) return;
    if ('bad' in r) {
      rows.push({ kind: 'bad-line', ...columns, ...common, lineNumber: i + 1, raw: text, reason: r.bad.reason });
      return;
    }
    const k = r.key;
    rows.push({
      kind: 'key',
      ...columns,
      ...common,
      lineNumber: i + 1,
      raw: text,
      keyType: k.keyType,
      fingerprint: k.fingerprint,
      comment: k.comment,
      options: k.options,
      forcedCommand: optionValue(k.options, 'command'),
      from: optionValue(k.options, 'from'),
    });
  });
  return rows;
}

export const sshKeysCollector = defineCollector({
  name: 'ssh-keys',
  title: 'SSH authorized keys',
  description:
    'Every public key that can log in over SSH: authorized_keys and authorized_keys2 in every account\'s home (homes from the ' +
    'examined /etc/passwd, root and service accounts included) and every path sshd_config\'s AuthorizedKeysFile names ' +
    '(sshd_config and its Include files parsed, %h %u %U expanded, patterns inside Match blocks recorded with their ' +
    'condition), plus the AuthorizedKeysCommand program if one is set. One row per key with its type, SHA256 fingerprint ' +
    '(match it against sshd\'s "Accepted publickey" log lines), comment and options (a forced command=, from= limits, ' +
    'environment=), and the file\'s owner, mode, mtime and symlink target. Look for keys on service accounts, keys added ' +
    'recently, forced commands, files that are symlinks (into /tmp, or to another account\'s file), authorized_keys2 (rarely ' +
    'used by admins, sometimes by intruders) and AuthorizedKeysCommand programs. Lines sshd would reject are kept as bad-line ' +
    'rows. Raw copies of every file are kept.',
  preconditions: 'Any host; root to read every home directory. Works the same on a mounted image (--root). sshd\'s compiled-in defaults are assumed when sshd_config is absent.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const { entries, names } = await readUsers(ctx);
    const { directives, bad } = await readConfig(ctx);
    for (const b of bad) ctx.error(b.file, 'EPARSE', `line ${b.line}: ${b.reason}`);
    yield* configRows(directives);

    const cands = candidates(directives, entries);
    const dirs = new DirCache(ctx);
    const rowsFor = async (c: Candidate): Promise<Row[]> => {
      if ((await dirs.has(c.path)) === false) return []; // most homes have no .ssh: one listing says so
      const d = await describeFile(ctx, c.path, names, { maxBytes: 16 * 1024 * 1024 });
      if (!d) return [];
      const file: Row = { kind: 'file', ...d.columns, ...BLANK, users: [...c.users], via: [...c.via], readBySshd: c.readBySshd, match: c.match };
      return [file, ...(d.read ? keyRows(c, d.columns, d.read.data) : [])];
    };
    for await (const rows of inBatches(cands, 16, rowsFor, ctx.signal)) yield* rows;

    // The AuthorizedKeysCommand program: whatever it prints is trusted as keys.
    const seen = new Set<string>();
    for (const d of directives) {
      if (d.key !== 'authorizedkeyscommand' && d.key !== 'authorizedprincipalscommand') continue;
      const program = d.args[0];
      if (!program || program.toLowerCase() === 'none' || !program.startsWith('/') || seen.has(program)) continue;
      seen.add(program);
      const userDirective = directives.find((x) => x.key === `${d.key}user` && (x.match === d.match || x.match === null));
      const f = await describeFile(ctx, program, names, { maxBytes: 64 * 1024 * 1024 });
      yield {
        kind: 'file' as const,
        ...(f?.columns ?? { ...NO_FILE, path: program, fileType: 'missing' as const }),
        ...BLANK,
        users: userDirective?.args.slice(0, 1) ?? [],
        via: [d.keyword],
        match: d.match,
      };
    }
  },
});
