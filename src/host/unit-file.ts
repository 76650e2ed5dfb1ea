/**
 * systemd unit files and drop-ins (INI-like), parsed the way systemd's
 * conf-parser reads them: a line ends at LF, CRLF, a lone CR or NUL (so a
 * carriage return cannot hide text from systemd the way it does from `cat`:
 * what follows it is a line of its own); comment lines start with '#' or ';' (also inside a
 * continuation), a line ending in an odd number of backslashes continues on
 * the next one (the backslash becomes a space), keys may repeat, assignments
 * outside a section and lines without '=' are ignored (and reported), and an
 * empty assignment (`ExecStart=`) resets what came before — also across files,
 * which is how a drop-in replaces a unit's ExecStart.
 */

export interface UnitAssignment {
  section: string;
  key: string;
  /** The value with surrounding whitespace stripped, continuations joined. */
  value: string;
  /** 1-based line where the assignment starts. */
  line: number;
}

export interface UnitFileParse {
  assignments: UnitAssignment[];
  /** Sections in the order they appear (repeats kept). */
  sections: string[];
  /** Lines systemd would ignore with a warning: no '=', outside a section, malformed header. */
  badLines: number[];
}

const WS = ' \t\n\r';
const isWs = (c: string | undefined) => c !== undefined && WS.includes(c);

function strip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s[a])) a++;
  while (b > a && isWs(s[b - 1])) b--;
  return s.slice(a, b);
}

export function parseUnitFile(text: string): UnitFileParse {
  const assignments: UnitAssignment[] = [];
  const sections: string[] = [];
  const badLines: number[] = [];
  let section: string | null = null;
  let continuation: string | null = null;
  let contStart = 0;
  // systemd's read_line ends a line at \n, \r\n, a lone \r, or NUL
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n|\0/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const buf = lines[i]!;
    const lead = buf.replace(/^[ \t\n\r]+/, '');
    if (lead !== '' && (lead[0] === '#' || lead[0] === ';')) continue;
    const p: string = continuation === null ? buf : continuation + buf;
    const start = continuation === null ? i + 1 : contStart;
    let escaped = false;
    for (const ch of p) escaped = escaped ? false : ch === '\\';
    if (escaped) {
      continuation = `${p.slice(0, -1)} `;
      contStart = start;
      continue;
    }
    continuation = null;
    const l = strip(p);
    if (l === '' || l[0] === '#' || l[0] === ';') continue;
    if (l[0] === '[') {
      if (l.length < 2 || l[l.length - 1] !== ']') {
        badLines.push(start);
        section = null; // systemd ignores the following assignments until a valid header
        continue;
      }
      section = l.slice(1, -1);
      sections.push(section);
      continue;
    }
    const eq = l.indexOf('=');
    if (section === null || eq < 0) {
      badLines.push(start);
      continue;
    }
    assignments.push({ section, key: strip(l.slice(0, eq)), value: strip(l.slice(eq + 1)), line: start });
  }
  if (continuation !== null) {
    // a continuation at end of file is parsed as it stands
    const l = strip(continuation);
    const eq = l.indexOf('=');
    if (l !== '' && section !== null && eq >= 0 && l[0] !== '[') assignments.push({ section, key: strip(l.slice(0, eq)), value: strip(l.slice(eq + 1)), line: contStart });
    else if (l !== '') badLines.push(contStart);
  }
  return { assignments, sections, badLines };
}

/** Section → key → values in effect, after applying files in order (unit file first, then drop-ins). */
export type UnitSettings = Record<string, Record<string, string[]>>;

export interface AppliedAssignment extends UnitAssignment {
  /** Index of the file (in the order given) the assignment came from. */
  file: number;
  /** Still in effect at the end: not reset by a later empty assignment or overridden (single-valued keys keep only the last). */
  active: boolean;
}

/**
 * Merges parsed files in load order. Every key is treated as a list where an
 * empty assignment clears it; for keys that take a single value the last entry
 * is the one systemd uses (see `singleValued`).
 */
export function mergeUnitFiles(files: UnitFileParse[]): { settings: UnitSettings; applied: AppliedAssignment[] } {
  const settings: UnitSettings = Object.create(null) as UnitSettings;
  const applied: AppliedAssignment[] = [];
  const live = new Map<string, AppliedAssignment[]>();
  files.forEach((f, file) => {
    for (const a of f.assignments) {
      const id = `${a.section}\u0000${a.key}`;
      const sec = (settings[a.section] ??= Object.create(null) as Record<string, string[]>);
      const entry: AppliedAssignment = { ...a, file, active: a.value !== '' };
      applied.push(entry);
      if (a.value === '') {
        for (const prev of live.get(id) ?? []) prev.active = false;
        live.set(id, []);
        sec[a.key] = [];
        continue;
      }
      if (!isListKey(a.key)) for (const prev of live.get(id) ?? []) prev.active = false;
      const list = live.get(id) ?? [];
      list.push(entry);
      live.set(id, list);
      (sec[a.key] ??= []).push(a.value);
    }
  });
  return { settings, applied };
}

/** Keys whose repeated assignments add up (commands, dependencies, environment); others keep the last value. */
export function isListKey(key: string): boolean {
  return EXEC_KEYS.has(key) || LIST_KEYS.test(key);
}

const LIST_KEYS =
  /^(Wants|Requires|Requisite|BindsTo|PartOf|Upholds|Conflicts|Before|After|OnFailure|OnSuccess|WantedBy|RequiredBy|UpheldBy|Also|Alias|Environment|EnvironmentFile|PassEnvironment|UnsetEnvironment|OnCalendar|OnActiveSec|OnBootSec|OnStartupSec|OnUnitActiveSec|OnUnitInactiveSec|ListenStream|ListenDatagram|ListenSequentialPacket|ListenFIFO|ListenSpecial|ListenNetlink|ListenMessageQueue|ListenUSBFunction|PathExists|PathExistsGlob|PathChanged|PathModified|DirectoryNotEmpty|Condition\w+|Assert\w+|ReadWritePaths|ReadOnlyPaths|InaccessiblePaths|ExecPaths|NoExecPaths|BindPaths|BindReadOnlyPaths|Documentation|SupplementaryGroups|DeviceAllow|IPAddressAllow|IPAddressDeny|SystemCallFilter|CapabilityBoundingSet|AmbientCapabilities)$/;

/** Keys that hold command lines. */
export const EXEC_KEYS = new Set(['ExecCondition', 'ExecStartPre', 'ExecStart', 'ExecStartPost', 'ExecReload', 'ExecStop', 'ExecStopPost']);

export interface ExecCommand {
  /** The command's own text within the value (one of several separated by ' ; '). */
  raw: string;
  /** Prefix characters before the path: '-' failure ignored, '@' argv[0] given, '+' '!' '!!' privileges, ':' no variable expansion, '|' login shell. */
  prefixes: string;
  /** The program as systemd would look it up (first word after the prefixes, quotes and escapes undone). */
  program: string;
  /** Arguments after the program (with '@', the first is argv[0]). */
  args: string[];
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ', ';': ';' };

interface Word {
  text: string;
  start: number;
  end: number;
  /** The word is a bare ';' (a command separator). */
  separator: boolean;
}

/** Splits an Exec value into words: whitespace-separated, "…" and '…' quotes, C escapes. */
export function execWords(value: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    while (i < n && isWs(value[i])) i++;
    if (i >= n) break;
    const start = i;
    let text = '';
    let quote: string | null = null;
    let plain = true;
    while (i < n) {
      const c = value[i]!;
      if (quote === null && isWs(c)) break;
      if (c === '\\' && i + 1 < n) {
        plain = false;
        const e = value[i + 1]!;
        if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 2, i + 4))) {
          text += String.fromCharCode(parseInt(value.slice(i + 2, i + 4), 16));
          i += 4;
        } else if (/^[0-7]{3}$/.test(value.slice(i + 1, i + 4))) {
          text += String.fromCharCode(parseInt(value.slice(i + 1, i + 4), 8));
          i += 4;
        } else {
          text += ESCAPES[e] ?? e;
          i += 2;
        }
        continue;
      }
      if (quote !== null && c === quote) {
        quote = null;
        i++;
        continue;
      }
      if (quote === null && (c === '"' || c === "'")) {
        plain = false;
        quote = c;
        i++;
        continue;
      }
      text += c;
      i++;
    }
    words.push({ text, start, end: i, separator: plain && text === ';' });
  }
  return words;
}

/** The commands of one Exec*= value: prefixes, program and arguments split out, raw text kept. */
export function parseExecValue(value: string): ExecCommand[] {
  const out: ExecCommand[] = [];
  let group: Word[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const first = group[0]!;
    const raw = value.slice(first.start, group[group.length - 1]!.end);
    // prefixes are only special as the leading characters of the first word
    const lead = value.slice(first.start, first.end).match(/^[-@:+!|]*/)![0];
    const programWord = first.text.slice(lead.length);
    const rest = group.slice(1).map((w) => w.text);
    if (programWord === '' && rest.length > 0) out.push({ raw, prefixes: lead, program: rest[0]!, args: rest.slice(1) });
    else out.push({ raw, prefixes: lead, program: programWord, args: rest });
    group = [];
  };
  for (const w of execWords(value)) {
    if (w.separator) flush();
    else group.push(w);
  }
  flush();
  return out;
}

/** Unit name suffixes systemd loads. */
export const UNIT_SUFFIXES = ['service', 'socket', 'timer', 'path', 'mount', 'automount', 'swap', 'target', 'slice', 'scope', 'device'];

export function unitType(name: string): string | null {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  const t = name.slice(dot + 1);
  return UNIT_SUFFIXES.includes(t) ? t : null;
}

/**
 * Directory names whose *.conf drop-ins apply to a unit, most general first:
 * `service.d`, then each dash prefix (`foo-.service.d` for foo-bar.service),
 * the template (`getty@.service.d` for getty@tty1.service), then the unit's own.
 */
export function dropInDirNames(unit: string): string[] {
  const type = unitType(unit);
  if (!type) return [`${unit}.d`];
  const stem = unit.slice(0, -(type.length + 1));
  const out = [`${type}.d`];
  const at = stem.indexOf('@');
  const prefixBase = at >= 0 ? stem.slice(0, at) : stem;
  for (let i = 0; i < prefixBase.length; i++) if (prefixBase[i] === '-' && i > 0) out.push(`${prefixBase.slice(0, i + 1)}.${type}.d`);
  if (at >= 0 && at < stem.length - 1) out.push(`${stem.slice(0, at + 1)}.${type}.d`);
  out.push(`${unit}.d`);
  return [...new Set(out)];
}

/** The template a unit instance is made from (getty@tty1.service → getty@.service), or null. */
export function templateOf(unit: string): string | null {
  const type = unitType(unit);
  if (!type) return null;
  const stem = unit.slice(0, -(type.length + 1));
  const at = stem.indexOf('@');
  if (at < 0 || at === stem.length - 1) return null;
  return `${stem.slice(0, at + 1)}.${type}`;
}
