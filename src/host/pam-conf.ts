/**
 * PAM configuration (pam.conf(5)): /etc/pam.d/SERVICE files hold
 *   type control module-path module-arguments
 * and /etc/pam.conf the same with the service name first. Read the way
 * Linux-PAM reads it: '#' cuts the rest of the line wherever it stands, a
 * trailing '\' joins the next line, control may be `[value=action ...]` with
 * spaces inside, and an argument may be `[ ... ]` with spaces (and `\]`)
 * inside. A leading '-' on the type means "skip silently if the module is
 * missing". Debian's `@include FILE` lines are kept too.
 */
export interface PamRule {
  kind: 'rule';
  line: number;
  /** Service name: the first field in /etc/pam.conf, null in /etc/pam.d files (the file name is the service). */
  service: string | null;
  /** auth, account, password or session (lower-cased), without the leading '-'. */
  type: string;
  /** The line starts with '-': a missing module is ignored without logging. */
  quietIfMissing: boolean;
  /** Control as written: required, requisite, sufficient, optional, include, substack, or [value=action ...]. */
  control: string;
  /** For [value=action ...] controls: each value and its action; null for the keyword forms. */
  controlActions: { value: string; action: string }[] | null;
  /** The module path as written (or the included service for include/substack). */
  module: string;
  args: string[];
  /** The arguments exactly as written after the module. */
  argsRaw: string;
  raw: string;
}

export interface PamInclude {
  kind: 'include';
  line: number;
  /** The file named by Debian's `@include` (relative names are under /etc/pam.d). */
  target: string;
  raw: string;
}

export interface PamBadLine {
  line: number;
  reason: string;
  raw: string;
}

export const PAM_TYPES: ReadonlySet<string> = new Set(['auth', 'account', 'password', 'session']);

/** Splits fields on blanks; `[ ... ]` groups (with `\]` escapes) are one field. Returns fields with their end offsets. */
function fields(s: string): { text: string; start: number; end: number }[] | null {
  const out: { text: string; start: number; end: number }[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) break;
    const start = i;
    let text = '';
    if (s[i] === '[') {
      i++;
      let closed = false;
      while (i < s.length) {
        if (s[i] === '\\' && s[i + 1] === ']') {
          text += ']';
          i += 2;
        } else if (s[i] === ']') {
          closed = true;
          i++;
          break;
        } else text += s[i++];
      }
      if (!closed) return null;
      text = `[${text}]`;
      // a field continues if non-blank characters follow the bracket
      while (i < s.length && s[i] !== ' ' && s[i] !== '\t') text += s[i++];
    } else {
      while (i < s.length && s[i] !== ' ' && s[i] !== '\t') text += s[i++];
    }
    out.push({ text, start, end: i });
  }
  return out;
}

function controlActions(control: string): { value: string; action: string }[] | null {
  if (!control.startsWith('[')) return null;
  return control
    .slice(1, -1)
    .trim()
    .split(/[ \t]+/)
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      return eq === -1 ? { value: p, action: '' } : { value: p.slice(0, eq), action: p.slice(eq + 1) };
    });
}

/** Parses one file. `pamConf` true for /etc/pam.conf (service name in the first field). */
export function parsePamFile(text: string, opts: { pamConf?: boolean } = {}): { entries: (PamRule | PamInclude)[]; bad: PamBadLine[] } {
  const entries: (PamRule | PamInclude)[] = [];
  const bad: PamBadLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let raw = lines[i]!;
    let joined = raw.replace(/\r$/, '');
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      i++;
      raw += `\n${lines[i]!}`;
      joined = `${joined.slice(0, -1)} ${lines[i]!.replace(/\r$/, '')}`;
    }
    const hash = joined.indexOf('#');
    const s = (hash === -1 ? joined : joined.slice(0, hash)).trim();
    if (s === '') continue;
    const inc = /^@include[ \t]+([^ \t]+)/.exec(s);
    if (inc) {
      entries.push({ kind: 'include', line, target: inc[1]!, raw });
      continue;
    }
    const f = fields(s);
    if (!f) {
      bad.push({ line, reason: 'unterminated [', raw });
      continue;
    }
    const off = opts.pamConf ? 1 : 0;
    if (f.length < off + 3) {
      bad.push({ line, reason: 'fewer than three fields', raw });
      continue;
    }
    const typeField = f[off]!.text;
    const quiet = typeField.startsWith('-');
    const type = (quiet ? typeField.slice(1) : typeField).toLowerCase();
    if (!PAM_TYPES.has(type)) {
      bad.push({ line, reason: `unknown type ${JSON.stringify(typeField.slice(0, 40))}`, raw });
      continue;
    }
    const control = f[off + 1]!.text;
    const module = f[off + 2]!;
    const args = f.slice(off + 3).map((x) => x.text.replace(/^\[(.*)\]$/, '$1'));
    entries.push({
      kind: 'rule',
      line,
      service: opts.pamConf ? f[0]!.text : null,
      type,
      quietIfMissing: quiet,
      control,
      controlActions: controlActions(control),
      module: module.text,
      args,
      argsRaw: s.slice(module.end).trim(),
      raw,
    });
  }
  return { entries, bad };
}

/** The command pam_exec.so runs: its arguments after pam_exec's own options. */
export function pamExecCommand(args: string[]): string[] {
  let i = 0;
  while (i < args.length && /^(debug|expose_authtok|quiet|quiet_log|seteuid|stdout|log=.*|type=.*)$/.test(args[i]!)) i++;
  return args.slice(i);
}

/** Directories Linux-PAM loads relative module names from, on the distributions goldhour meets. */
export const PAM_MODULE_DIRS = [
  '/lib/x86_64-linux-gnu/security',
  '/usr/lib/x86_64-linux-gnu/security',
  '/lib/aarch64-linux-gnu/security',
  '/usr/lib/aarch64-linux-gnu/security',
  '/lib/security',
  '/usr/lib/security',
  '/lib64/security',
  '/usr/lib64/security',
];
