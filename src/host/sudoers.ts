/**
 * sudoers(5), read far enough to say who may run what as whom: user
 * specifications, Defaults, aliases and include directives. Logical lines are
 * joined at a trailing '\'. '#' starts a comment except in `#include`,
 * `#includedir` and a `#uid` (a '#' followed by a digit). Anything that does
 * not fit comes back as a bad line with its text, never dropped.
 */
export interface CmndSpec {
  /** Hosts this command applies on (the Host_List before '='). */
  hosts: string[];
  /** Run-as users from `(users:groups)`; null when no Runas_Spec applies (sudo then runs as root). */
  runAsUsers: string[] | null;
  /** Run-as groups from `(users:groups)`; null when none given. */
  runAsGroups: string[] | null;
  /** Tags in force: NOPASSWD, SETENV, NOEXEC… (inherited from earlier commands of the same list, as sudo does). */
  tags: string[];
  /** Options such as CWD=, CHROOT=, TIMEOUT=, ROLE=, TYPE=, NOTBEFORE=, NOTAFTER=. */
  options: string[];
  /** Digest a command must match, e.g. "sha256:…", or null. */
  digest: string | null;
  /** The command with its arguments, an alias name or ALL; a leading '!' negates. */
  command: string;
}

export interface SudoersSpec {
  kind: 'spec';
  line: number;
  raw: string;
  users: string[];
  specs: CmndSpec[];
}

export interface SudoersDefaults {
  kind: 'defaults';
  line: number;
  raw: string;
  /** What the Defaults entry is bound to: all, a host (@), a user (:), a command (!) or a run-as user (>). */
  scope: 'all' | 'host' | 'user' | 'command' | 'runas';
  binding: string | null;
  settings: string[];
}

export interface SudoersAlias {
  kind: 'alias';
  line: number;
  raw: string;
  aliasType: 'User_Alias' | 'Runas_Alias' | 'Host_Alias' | 'Cmnd_Alias' | 'Cmd_Alias';
  name: string;
  members: string[];
}

export interface SudoersInclude {
  kind: 'include';
  line: number;
  raw: string;
  directive: '#include' | '@include' | '#includedir' | '@includedir';
  path: string;
}

export type SudoersEntry = SudoersSpec | SudoersDefaults | SudoersAlias | SudoersInclude;

export interface SudoersBadLine {
  line: number;
  raw: string;
  reason: string;
}

export const SUDO_TAGS: ReadonlySet<string> = new Set([
  'NOPASSWD', 'PASSWD', 'NOEXEC', 'EXEC', 'SETENV', 'NOSETENV', 'LOG_INPUT', 'NOLOG_INPUT',
  'LOG_OUTPUT', 'NOLOG_OUTPUT', 'MAIL', 'NOMAIL', 'FOLLOW', 'NOFOLLOW', 'INTERCEPT', 'NOINTERCEPT',
]);

const OPTION = /^(ROLE|TYPE|CWD|CHROOT|NOTBEFORE|NOTAFTER|TIMEOUT|APPARMOR_PROFILE|PRIVS|LIMITPRIVS)=("(?:[^"\\]|\\.)*"|[^ \t,:]+)[ \t]*/;
const TAG = /^([A-Z_]+)[ \t]*:[ \t]*/;
const DIGEST = /^(sha224|sha256|sha384|sha512):([A-Za-z0-9+/=]+)(?:[ \t]*,[ \t]*(?:sha224|sha256|sha384|sha512):[A-Za-z0-9+/=]+)*[ \t]+/;
const ALIAS_TYPES = new Set(['User_Alias', 'Runas_Alias', 'Host_Alias', 'Cmnd_Alias', 'Cmd_Alias']);

/** Strips a comment: the first '#' outside quotes, not escaped, not followed by a digit. */
function stripComment(s: string): string {
  let quote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') i++;
    else if (c === '"') quote = !quote;
    else if (c === '#' && !quote && !/[0-9]/.test(s[i + 1] ?? '')) return s.slice(0, i);
  }
  return s;
}

/** Splits on a separator outside quotes and not escaped; items trimmed, empty ones dropped. */
export function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
      continue;
    }
    if (c === '"') quote = !quote;
    else if (!quote && c === '(') depth++;
    else if (!quote && c === ')') depth = Math.max(0, depth - 1);
    if (c === sep && !quote && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.filter((x) => x !== '');
}

/** Index of the first unescaped, unquoted occurrence of one of `chars` at or after `from`, or -1. */
function findTop(s: string, chars: string, from = 0): number {
  let quote = false;
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"') quote = !quote;
    else if (!quote && chars.includes(c)) return i;
  }
  return -1;
}

/** The user list at the start of a spec: items joined by commas, ended by a blank not next to a comma. */
function takeUserList(s: string): { users: string[]; rest: string } {
  let i = 0;
  let quote = false;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '"') quote = !quote;
    if (quote || (c !== ' ' && c !== '\t')) continue;
    let j = i;
    while (s[j] === ' ' || s[j] === '\t') j++;
    const prev = s.slice(0, i).trimEnd().slice(-1);
    if (s[j] === ',' || prev === ',') {
      i = j - 1;
      continue;
    }
    break;
  }
  return { users: splitTop(s.slice(0, i), ','), rest: s.slice(i).trim() };
}

function parseRunas(inner: string): { users: string[]; groups: string[] | null } {
  const colon = findTop(inner, ':');
  if (colon === -1) return { users: splitTop(inner, ','), groups: null };
  return { users: splitTop(inner.slice(0, colon), ','), groups: splitTop(inner.slice(colon + 1), ',') };
}

/** Host_List = Cmnd_Spec_List [: Host_List = Cmnd_Spec_List]... ; null when it does not parse. */
function parseSpecBody(body: string): CmndSpec[] | null {
  const specs: CmndSpec[] = [];
  let s = body;
  while (s.length > 0) {
    const eq = findTop(s, '=');
    if (eq === -1) return null;
    const hosts = splitTop(s.slice(0, eq), ',');
    if (hosts.length === 0) return null;
    s = s.slice(eq + 1).trimStart();
    let runAsUsers: string[] | null = null;
    let runAsGroups: string[] | null = null;
    let tags: string[] = [];
    for (;;) {
      if (s.startsWith('(')) {
        const close = s.indexOf(')');
        if (close === -1) return null;
        const r = parseRunas(s.slice(1, close));
        runAsUsers = r.users;
        runAsGroups = r.groups;
        s = s.slice(close + 1).trimStart();
      }
      const options: string[] = [];
      let m: RegExpExecArray | null;
      while ((m = OPTION.exec(s))) {
        options.push(`${m[1]}=${m[2]}`);
        s = s.slice(m[0].length);
      }
      while ((m = TAG.exec(s)) && SUDO_TAGS.has(m[1]!)) {
        const tag = m[1]!;
        tags = [...tags.filter((t) => t !== tag && t !== oppositeTag(tag)), tag];
        s = s.slice(m[0].length);
      }
      let digest: string | null = null;
      const d = DIGEST.exec(s);
      if (d) {
        digest = d[0].trim();
        s = s.slice(d[0].length);
      }
      const end = findTop(s, ',:');
      const command = (end === -1 ? s : s.slice(0, end)).trim();
      if (command === '') return null;
      specs.push({ hosts, runAsUsers, runAsGroups, tags: [...tags], options, digest, command });
      if (end === -1) return specs;
      const sep = s[end];
      s = s.slice(end + 1).trimStart();
      if (sep === ':') break;
    }
  }
  return specs;
}

function oppositeTag(t: string): string {
  return t.startsWith('NO') ? t.slice(2) : `NO${t}`;
}

function parseLogical(s: string, line: number, raw: string): SudoersEntry | SudoersBadLine {
  const bad = (reason: string): SudoersBadLine => ({ line, raw, reason });
  const inc = /^([#@])(include|includedir)[ \t]+(.+)$/.exec(s);
  if (inc) {
    const p = inc[3]!.trim().replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1');
    return { kind: 'include', line, raw, directive: `${inc[1]}${inc[2]}` as SudoersInclude['directive'], path: p };
  }
  const body = stripComment(s).trim();
  if (body === '') return bad('empty');
  const def = /^Defaults(?:([@:!>])([^ \t]+))?(?:[ \t]+([\s\S]*))?$/.exec(body);
  if (def) {
    const scope = def[1] === '@' ? 'host' : def[1] === ':' ? 'user' : def[1] === '!' ? 'command' : def[1] === '>' ? 'runas' : 'all';
    return { kind: 'defaults', line, raw, scope, binding: def[2] ?? null, settings: splitTop(def[3] ?? '', ',') };
  }
  const alias = /^([A-Za-z_]+)[ \t]/.exec(body);
  if (alias && ALIAS_TYPES.has(alias[1]!)) return bad('alias without NAME = members');
  const { users, rest } = takeUserList(body);
  if (users.length === 0 || rest === '') return bad('not a user specification, Defaults, alias or include');
  const specs = parseSpecBody(rest);
  if (!specs) return bad('user specification does not parse');
  return { kind: 'spec', line, raw, users, specs };
}

/** All aliases a line defines (`Cmnd_Alias A = x : B = y`). */
function aliasesOf(body: string, line: number, raw: string): SudoersAlias[] | null {
  const alias = /^([A-Za-z_]+)[ \t]+([\s\S]*)$/.exec(body);
  if (!alias || !ALIAS_TYPES.has(alias[1]!)) return null;
  const out: SudoersAlias[] = [];
  for (const d of alias[2]!.split(/[ \t]*:[ \t]*(?=[A-Z][A-Z0-9_]*[ \t]*=)/)) {
    const m = /^([A-Z][A-Z0-9_]*)[ \t]*=[ \t]*([\s\S]*)$/.exec(d);
    if (!m) return null;
    out.push({ kind: 'alias', line, raw, aliasType: alias[1] as SudoersAlias['aliasType'], name: m[1]!, members: splitTop(m[2]!, ',') });
  }
  return out;
}

export function parseSudoers(text: string): { entries: SudoersEntry[]; bad: SudoersBadLine[] } {
  const entries: SudoersEntry[] = [];
  const bad: SudoersBadLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let raw = lines[i]!;
    let joined = raw.replace(/\r$/, '');
    while (joined.endsWith('\\') && !joined.endsWith('\\\\') && i + 1 < lines.length) {
      i++;
      raw += `\n${lines[i]!}`;
      joined = joined.slice(0, -1) + lines[i]!.replace(/\r$/, '');
    }
    const s = joined.trim();
    if (s === '') continue;
    if (s.startsWith('#') && !/^#(include|includedir)[ \t]/.test(s) && !/^#[0-9]/.test(s)) continue;
    const body = stripComment(s).trim();
    const aliases = /^#/.test(s) ? null : aliasesOf(body, line, raw);
    if (aliases) {
      entries.push(...aliases);
      continue;
    }
    const r = parseLogical(s, line, raw);
    if ('kind' in r) entries.push(r);
    else if (r.reason !== 'empty') bad.push(r);
  }
  return { entries, bad };
}

/** Whether sudo reads a file found by #includedir: names ending in '~' or holding a '.' are skipped. */
export function includedirReads(name: string): boolean {
  return !name.endsWith('~') && !name.includes('.');
}
