/**
 * sshd_config(5) the way sshd reads it: `Keyword args` or `Keyword=args`,
 * keywords case-insensitive, arguments split like OpenSSH's argv_split
 * (double or single quotes group, \" \' \\ and "\ " escape, an unquoted # at
 * the start of an argument ends the line). `Include` pulls in glob patterns
 * (relative ones under /etc/ssh) where it stands, also inside a Match block;
 * every directive carries the Match condition it is under, so a setting that
 * applies only to some users is never mistaken for a global one.
 */
export interface SshdLine {
  line: number;
  /** Keyword as written. */
  keyword: string;
  /** Keyword lower-cased, for lookups. */
  key: string;
  args: string[];
  raw: string;
}

export interface SshdDirective extends SshdLine {
  file: string;
  /** The Match criteria in force ("User alice", "Group sftp Address 10.0.0.0/8"), or null outside any Match block. */
  match: string | null;
}

export interface SshdBadLine {
  file: string;
  line: number;
  reason: string;
}

/** OpenSSH argv_split with terminate_on_comment; null on an unterminated quote. */
export function splitSshdArgs(s: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) return args;
    if (s[i] === '#') return args;
    let arg = '';
    let quote = '';
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\') {
        const n = s[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (quote === '' && n === ' ')) {
          i++;
          arg += n;
        } else arg += c;
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else arg += c;
    }
    if (quote !== '') return null;
    args.push(arg);
  }
}

/** One line; null for blank lines and comments. */
export function parseSshdLine(raw: string, line: number): SshdLine | { bad: string } | null {
  const s = raw.replace(/\r$/, '').replace(/[ \t\r\n]+$/, '').replace(/^[ \t]+/, '');
  if (s === '' || s.startsWith('#')) return null;
  const m = /^([^ \t=]+)[ \t]*(?:=[ \t]*)?([\s\S]*)$/.exec(s);
  if (!m) return { bad: 'no keyword' };
  const args = splitSshdArgs(m[2]!);
  if (args === null) return { bad: 'unterminated quote' };
  return { line, keyword: m[1]!, key: m[1]!.toLowerCase(), args, raw };
}

export function parseSshdConfig(text: string): { lines: SshdLine[]; bad: { line: number; reason: string }[] } {
  const lines: SshdLine[] = [];
  const bad: { line: number; reason: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const r = parseSshdLine(raw, i + 1);
    if (r === null) return;
    if ('bad' in r) bad.push({ line: i + 1, reason: r.bad });
    else lines.push(r);
  });
  return { lines, bad };
}

export interface SshdConfigIo {
  /** The file's text, or null when it cannot be read (the caller records why). */
  read(path: string): Promise<string | null>;
  /** Paths matching a glob, sorted; [] when none. */
  glob(pattern: string): Promise<string[]>;
}

const MAX_INCLUDE_DEPTH = 16;

/** Reads the main file and its Includes in order, as sshd does. */
export async function expandSshdConfig(mainPath: string, io: SshdConfigIo): Promise<{ directives: SshdDirective[]; bad: SshdBadLine[]; files: string[] }> {
  const directives: SshdDirective[] = [];
  const bad: SshdBadLine[] = [];
  const files: string[] = [];
  const visit = async (file: string, match: string | null, stack: string[]): Promise<void> => {
    const text = await io.read(file);
    if (text === null) return;
    files.push(file);
    const parsed = parseSshdConfig(text);
    for (const b of parsed.bad) bad.push({ file, ...b });
    let current = match;
    for (const l of parsed.lines) {
      if (l.key === 'match') {
        current = l.args.length === 0 ? '' : l.args.join(' ');
        directives.push({ ...l, file, match: current });
        continue;
      }
      directives.push({ ...l, file, match: current });
      if (l.key !== 'include') continue;
      for (const pattern of l.args) {
        const abs = pattern.startsWith('/') ? pattern : `/etc/ssh/${pattern}`;
        for (const inc of await io.glob(abs)) {
          if (stack.includes(inc) || stack.length >= MAX_INCLUDE_DEPTH) {
            bad.push({ file, line: l.line, reason: `Include of ${inc} ${stack.includes(inc) ? 'loops' : 'nests too deep'}; not followed` });
            continue;
          }
          await visit(inc, current, [...stack, inc]);
        }
      }
    }
  };
  await visit(mainPath, null, [mainPath]);
  return { directives, bad, files };
}

/**
 * Expands %% %h %u %U in an AuthorizedKeysFile path and makes it absolute
 * (relative paths are under the user's home). Unknown %x stay as written.
 */
export function expandKeysPath(pattern: string, user: { name: string; uid: number; home: string }): string {
  const expanded = pattern.replace(/%([%huU])/g, (_, c: string) => (c === '%' ? '%' : c === 'h' ? user.home : c === 'u' ? user.name : String(user.uid)));
  if (expanded.startsWith('/')) return expanded;
  return `${user.home.replace(/\/+$/, '')}/${expanded}`;
}

export const DEFAULT_AUTHORIZED_KEYS_FILES = ['.ssh/authorized_keys', '.ssh/authorized_keys2'];
