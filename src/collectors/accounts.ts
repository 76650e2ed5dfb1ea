import path from 'node:path';
import { z } from 'zod';
import { HostReadError } from '../host/host.js';
import { parseGroup, parsePasswd, type GroupEntry, type PasswdEntry } from '../host/passwd.js';
import { classifyPassword, parseGshadow, parseShadow, parseShells, type GshadowEntry, type PasswordFacts, type ShadowEntry } from '../host/shadow.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';

const STATES = ['empty', 'hash', 'locked', 'no-password', 'shadowed'] as const;
const SCHEMES = ['des', 'bsdi', 'md5', 'sha256', 'sha512', 'yescrypt', 'gost-yescrypt', 'scrypt', 'bcrypt', 'sha1crypt', 'sunmd5', 'nthash', 'unknown'] as const;

const Row = z.object({
  kind: z
    .enum(['account', 'group', 'shadow-only', 'malformed'])
    .describe('account: a passwd line; group: a group line; shadow-only: a shadow entry with no passwd account; malformed: a line that does not parse as its file\'s format'),
  file: z.string().describe('file the line is in (/etc/passwd, /etc/group, /etc/shadow, /etc/gshadow)'),
  line: z.number().int().nullable().describe('1-based line number in that file'),
  name: z.string().nullable().describe('account or group name (invalid UTF-8 bytes written as %XX)'),
  nameBase64: z.string().nullable().describe('the name\'s raw bytes in base64, only when they are not valid UTF-8'),
  uid: z.number().int().nullable().describe('user id; every uid 0 account is root-equivalent, whatever its name'),
  gid: z.number().int().nullable().describe('primary group id (accounts) or group id (groups)'),
  primaryGroup: z.string().nullable().describe('name of the primary group in /etc/group; null when no group has that gid'),
  groups: z.array(z.string()).nullable().describe('accounts: supplementary groups listing the account in /etc/group (sudo, wheel, adm, docker…)'),
  members: z.array(z.string()).nullable().describe('groups: members listed in /etc/group'),
  gecos: z.string().nullable().describe('comment (full name) field'),
  home: z.string().nullable().describe('home directory as written in passwd'),
  homeKind: z
    .enum(['directory', 'symlink', 'file', 'other', 'missing'])
    .nullable()
    .describe('what the home path is on the examined host (not followed if a symlink); null when not checked or unreadable'),
  homeUid: z.number().int().nullable().describe('owner uid of the home path; a home not owned by its account is worth a look'),
  homeMode: z.string().nullable().describe('permission bits of the home path in octal (e.g. 0755)'),
  shell: z.string().nullable().describe('login shell as written, with a trailing CR kept as glibc keeps it (an empty field means /bin/sh)'),
  shellListed: z.boolean().nullable().describe('the shell (or /bin/sh for an empty field) is listed in /etc/shells; null when there is no /etc/shells'),
  shellNologin: z.boolean().nullable().describe('the shell is nologin or false by name: the account cannot get an interactive shell'),
  loginShell: z
    .boolean()
    .nullable()
    .describe('listed in /etc/shells and not nologin/false; sshd does not check /etc/shells, so an unlisted shell that exists still gives a shell'),
  shellExists: z.boolean().nullable().describe('the shell path exists on the examined host'),
  passwdField: z.enum(STATES).nullable().describe('state of the password field in passwd itself: shadowed ("x") normally; a hash or an empty field there bypasses shadow'),
  passwdScheme: z.enum(SCHEMES).nullable().describe('hash scheme when passwd itself holds a hash'),
  inShadow: z.boolean().nullable().describe('the account has an entry in /etc/shadow (groups: in /etc/gshadow); null when that file could not be read'),
  passwordState: z
    .enum(STATES)
    .nullable()
    .describe('from shadow/gshadow: empty (no password asked; for a group, only members may newgrp), hash, locked (! or !!), no-password (*); the hash itself is never copied into rows'),
  passwordScheme: z.enum(SCHEMES).nullable().describe('hash scheme: des (13 chars), md5 ($1$), sha256 ($5$), sha512 ($6$), yescrypt ($y$), bcrypt ($2b$)…; also of a hash kept behind a lock'),
  passwordLocked: z.boolean().nullable().describe('the shadow field starts with "!" (passwd -l / usermod -L)'),
  lastChange: z.string().nullable().describe('day of the last password change (YYYY-MM-DD); 1970-01-01 forces a change at next login'),
  minDays: z.number().int().nullable().describe('days before the password may be changed again'),
  maxDays: z.number().int().nullable().describe('days after which the password must be changed'),
  warnDays: z.number().int().nullable().describe('days of warning before the password expires'),
  inactiveDays: z.number().int().nullable().describe('days after expiry before the account is disabled'),
  expires: z.string().nullable().describe('day the account expires (YYYY-MM-DD)'),
  duplicateName: z.boolean().nullable().describe('another line of the same file has this name (the first one wins at login)'),
  sameId: z.array(z.string()).nullable().describe('other names with the same uid (accounts) or gid (groups): a second uid 0 name is the classic backdoor'),
  lineEndsWithCR: z.boolean().nullable().describe('the line ended in a carriage return (CRLF file): to glibc the CR is part of the last field, e.g. the shell'),
  fieldCount: z.number().int().nullable().describe('fields on the line (7 passwd, 4 group, 9 shadow, 4 gshadow when well formed)'),
  raw: z.string().nullable().describe('malformed passwd/group lines only: the line as written, a hash in its password field withheld (never for shadow files)'),
});

type AccountRow = z.infer<typeof Row>;

const EMPTY: AccountRow = {
  kind: 'account',
  file: '',
  line: null,
  name: null,
  nameBase64: null,
  uid: null,
  gid: null,
  primaryGroup: null,
  groups: null,
  members: null,
  gecos: null,
  home: null,
  homeKind: null,
  homeUid: null,
  homeMode: null,
  shell: null,
  shellListed: null,
  shellNologin: null,
  loginShell: null,
  shellExists: null,
  passwdField: null,
  passwdScheme: null,
  inShadow: null,
  passwordState: null,
  passwordScheme: null,
  passwordLocked: null,
  lastChange: null,
  minDays: null,
  maxDays: null,
  warnDays: null,
  inactiveDays: null,
  expires: null,
  duplicateName: null,
  sameId: null,
  lineEndsWithCR: null,
  fieldCount: null,
  raw: null,
};

/** Backups the shadow tools leave (the state before the last change) and files read but not parsed: copied as evidence. */
const BACKUPS = ['/etc/passwd-', '/etc/group-', '/etc/shadow-', '/etc/gshadow-'];

/** Files are decoded as latin1 so every byte survives; fields become text (with %XX for invalid UTF-8) at the end. */
const text = (s: string) => encodeHostPath(Buffer.from(s, 'latin1'));

function rawLines(data: Buffer): string[] {
  return data.toString('latin1').split('\n');
}

function endsWithCR(lines: string[], line: number): boolean {
  return lines[line - 1]?.endsWith('\r') ?? false;
}

function passwordColumns(p: PasswordFacts | undefined) {
  return p ? { passwordState: p.state, passwordScheme: p.scheme, passwordLocked: p.lockedPrefix } : {};
}

function shadowColumns(s: ShadowEntry) {
  return {
    ...passwordColumns(s.password),
    lastChange: s.lastChange,
    minDays: s.minDays,
    maxDays: s.maxDays,
    warnDays: s.warnDays,
    inactiveDays: s.inactiveDays,
    expires: s.expires,
  };
}

function nameColumns(name: string) {
  const t = text(name);
  return { name: t.text, nameBase64: t.base64 ?? null };
}

/** Names that appear more than once, and id → names. */
function indexes<E extends { name: string }>(entries: E[], id: (e: E) => number) {
  const seen = new Set<string>();
  const dupNames = new Set<string>();
  const byId = new Map<number, string[]>();
  for (const e of entries) {
    if (seen.has(e.name)) dupNames.add(e.name);
    seen.add(e.name);
    const list = byId.get(id(e)) ?? [];
    list.push(e.name);
    byId.set(id(e), list);
  }
  return { dupNames, byId };
}

function others(names: string[] | undefined, self: string): string[] {
  const out = (names ?? []).filter((n) => n !== self);
  return [...new Set(out)].map((n) => text(n).text);
}

interface PathFacts {
  kind: AccountRow['homeKind'];
  uid: number | null;
  mode: string | null;
}

async function pathFacts(ctx: CollectorContext, hostPath: string): Promise<PathFacts> {
  try {
    const st = await ctx.host.lstat(hostPath);
    const kind = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other';
    return { kind, uid: st.uid, mode: `0${(st.mode & 0o7777).toString(8).padStart(3, '0')}` };
  } catch (err) {
    if (err instanceof HostReadError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return { kind: 'missing', uid: null, mode: null };
    if (err instanceof HostReadError) ctx.error(hostPath, err.code, err.message);
    else throw err;
    return { kind: null, uid: null, mode: null };
  }
}

export const accountsCollector = defineCollector({
  name: 'accounts',
  title: 'Local accounts and groups',
  description:
    'Every account of /etc/passwd with its groups, home, shell and password facts from /etc/shadow, and every group of ' +
    '/etc/group with its gshadow password state. Password hashes are never copied into rows: only whether the field is ' +
    'empty, locked or a hash, and which scheme (a DES or MD5 hash on a modern host was set by hand). Look for a second uid 0 ' +
    'account, an empty password, a system account (uid < 1000) with a real login shell or a hash, a hash in passwd itself, ' +
    'duplicate names or uids, members of sudo/wheel/adm/docker, a password changed during the incident (lastChange), and ' +
    'malformed lines (a CR at the end of a line changes the shell). Raw copies of passwd, group, shadow, gshadow, shells and ' +
    'the backups passwd-, group-, shadow-, gshadow- (the state before the last change: diff them) are kept in the bundle; ' +
    'shadow and gshadow copies hold the hashes as evidence, like every bundle file they are written mode 0600.',
  preconditions:
    'Any host or --root image. Reading /etc/shadow and /etc/gshadow needs root; without it password facts are null and the failure is recorded.',
  timeoutMs: 15_000,
  row: Row,
  async *collect(ctx) {
    const passwdRead = await ctx.read('/etc/passwd');
    const groupRead = await ctx.read('/etc/group');
    const shadowRead = await ctx.read('/etc/shadow');
    const gshadowRead = await ctx.read('/etc/gshadow');
    const shellsRead = await ctx.read('/etc/shells');
    for (const b of BACKUPS) await ctx.read(b);

    const passwd = passwdRead ? parsePasswd(passwdRead.data.toString('latin1')) : { entries: [] as PasswdEntry[], bad: [] as number[] };
    const group = groupRead ? parseGroup(groupRead.data.toString('latin1')) : { entries: [] as GroupEntry[], bad: [] as number[] };
    const shadow = shadowRead ? parseShadow(shadowRead.data.toString('latin1')) : null;
    const gshadow = gshadowRead ? parseGshadow(gshadowRead.data.toString('latin1')) : null;
    const shells = shellsRead ? new Set(parseShells(shellsRead.data.toString('latin1'))) : null;
    const passwdLines = passwdRead ? rawLines(passwdRead.data) : [];
    const groupLines = groupRead ? rawLines(groupRead.data) : [];
    const shadowLines = shadowRead ? rawLines(shadowRead.data) : [];
    const gshadowLines = gshadowRead ? rawLines(gshadowRead.data) : [];

    const shadowByName = new Map<string, ShadowEntry>();
    for (const s of shadow?.entries ?? []) if (!shadowByName.has(s.name)) shadowByName.set(s.name, s);
    const gshadowByName = new Map<string, GshadowEntry>();
    for (const g of gshadow?.entries ?? []) if (!gshadowByName.has(g.name)) gshadowByName.set(g.name, g);
    const groupByGid = new Map<number, string>();
    for (const g of group.entries) if (!groupByGid.has(g.gid)) groupByGid.set(g.gid, g.name);
    const memberOf = new Map<string, string[]>();
    for (const g of group.entries) {
      for (const m of new Set(g.members)) {
        const list = memberOf.get(m) ?? [];
        list.push(g.name);
        memberOf.set(m, list);
      }
    }
    const pIdx = indexes(passwd.entries, (e) => e.uid);
    const gIdx = indexes(group.entries, (e) => e.gid);

    // homes and shells are shared by many system accounts: look each up once
    const homeFacts = new Map<string, Promise<PathFacts>>();
    const shellFacts = new Map<string, Promise<PathFacts>>();
    const lookup = (cache: Map<string, Promise<PathFacts>>, raw: string): Promise<PathFacts> | null => {
      const t = text(raw);
      if (t.base64 || !t.text.startsWith('/')) return null;
      let p = cache.get(t.text);
      if (!p) {
        p = pathFacts(ctx, t.text);
        cache.set(t.text, p);
      }
      return p;
    };

    for (const e of passwd.entries) {
      if (ctx.signal.aborted) return;
      const s = shadowByName.get(e.name);
      const pw = classifyPassword(e.password, { inPasswd: true });
      // glibc keeps a CR before the newline as part of the shell field: "/bin/bash\r" does not exist and cannot be run
      const cr = endsWithCR(passwdLines, e.line);
      const shellField = cr ? `${e.shell}\r` : e.shell;
      const shell = shellField === '' ? '/bin/sh' : shellField;
      const nologin = ['nologin', 'false'].includes(path.posix.basename(shell));
      const listed = shells ? shells.has(shell) : null;
      const home = await lookup(homeFacts, e.home);
      const sh = await lookup(shellFacts, shell);
      yield {
        ...EMPTY,
        kind: 'account' as const,
        file: '/etc/passwd',
        line: e.line,
        ...nameColumns(e.name),
        uid: e.uid,
        gid: e.gid,
        primaryGroup: groupByGid.has(e.gid) ? text(groupByGid.get(e.gid)!).text : null,
        groups: (memberOf.get(e.name) ?? []).map((g) => text(g).text),
        gecos: text(e.gecos).text,
        home: text(e.home).text,
        homeKind: home?.kind ?? null,
        homeUid: home?.uid ?? null,
        homeMode: home?.mode ?? null,
        shell: text(shellField).text,
        shellListed: listed,
        shellNologin: nologin,
        loginShell: listed === null ? null : listed && !nologin,
        shellExists: sh ? (sh.kind === null ? null : sh.kind !== 'missing') : null,
        passwdField: pw.state,
        passwdScheme: pw.scheme,
        inShadow: shadow ? s !== undefined : null,
        ...(s ? shadowColumns(s) : {}),
        duplicateName: pIdx.dupNames.has(e.name),
        sameId: others(pIdx.byId.get(e.uid), e.name),
        lineEndsWithCR: cr,
        fieldCount: 7,
      };
    }

    for (const g of group.entries) {
      const gs = gshadowByName.get(g.name);
      yield {
        ...EMPTY,
        kind: 'group' as const,
        file: '/etc/group',
        line: g.line,
        ...nameColumns(g.name),
        gid: g.gid,
        members: g.members.map((m) => text(m).text),
        passwdField: classifyPassword(g.password, { inPasswd: true }).state,
        passwdScheme: classifyPassword(g.password, { inPasswd: true }).scheme,
        inShadow: gshadow ? gs !== undefined : null,
        ...passwordColumns(gs?.password),
        duplicateName: gIdx.dupNames.has(g.name),
        sameId: others(gIdx.byId.get(g.gid), g.name),
        lineEndsWithCR: endsWithCR(groupLines, g.line),
        fieldCount: 4,
      };
    }

    const accountNames = new Set(passwd.entries.map((e) => e.name));
    const shadowNames = new Set<string>();
    for (const s of shadow?.entries ?? []) {
      const dup = shadowNames.has(s.name);
      shadowNames.add(s.name);
      if (!accountNames.has(s.name)) {
        yield { ...EMPTY, kind: 'shadow-only' as const, file: '/etc/shadow', line: s.line, ...nameColumns(s.name), ...shadowColumns(s), duplicateName: dup, fieldCount: s.fieldCount };
      } else if (s.fieldCount !== 9 || s.badNumbers || dup) {
        yield { ...EMPTY, kind: 'malformed' as const, file: '/etc/shadow', line: s.line, ...nameColumns(s.name), ...shadowColumns(s), duplicateName: dup, fieldCount: s.fieldCount };
      }
    }
    for (const g of gshadow?.entries ?? []) {
      if (g.fieldCount !== 4) {
        yield { ...EMPTY, kind: 'malformed' as const, file: '/etc/gshadow', line: g.line, ...nameColumns(g.name), ...passwordColumns(g.password), fieldCount: g.fieldCount };
      }
    }
    const malformed = (file: string, lines: string[], n: number) => {
      const fields = (lines[n - 1] ?? '').replace(/\r$/, '').split(':');
      // passwd is world-readable, but a hash stays out of rows all the same
      const pw = fields.length > 1 ? classifyPassword(fields[1]!) : null;
      if (pw?.scheme) fields[1] = `<${pw.scheme} hash withheld>`;
      return { ...EMPTY, kind: 'malformed' as const, file, line: n, raw: text(fields.join(':')).text, fieldCount: fields.length, lineEndsWithCR: endsWithCR(lines, n) };
    };
    for (const n of passwd.bad) yield malformed('/etc/passwd', passwdLines, n);
    for (const n of group.bad) yield malformed('/etc/group', groupLines, n);
    // shadow lines are never copied into rows (they may hold a hash): only where they are and how many fields they have
    const fields = (lines: string[], n: number) => (lines[n - 1] ?? '').replace(/\r$/, '').split(':').length;
    for (const n of shadow?.bad ?? []) yield { ...EMPTY, kind: 'malformed' as const, file: '/etc/shadow', line: n, fieldCount: fields(shadowLines, n), lineEndsWithCR: endsWithCR(shadowLines, n) };
    for (const n of gshadow?.bad ?? []) yield { ...EMPTY, kind: 'malformed' as const, file: '/etc/gshadow', line: n, fieldCount: fields(gshadowLines, n), lineEndsWithCR: endsWithCR(gshadowLines, n) };
  },
});
