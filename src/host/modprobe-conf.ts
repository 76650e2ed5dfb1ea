/**
 * modprobe.d(5) and modules-load.d(5) files.
 *
 * modprobe.d: `install NAME COMMAND...` (a shell command run instead of
 * loading the module: a known persistence hook), `remove NAME COMMAND...`,
 * `blacklist NAME`, `options NAME ARGS`, `alias WILDCARD NAME`, `softdep`,
 * `weakdep`. '#' lines are comments; a line ending in '\' continues on the next.
 *
 * modules-load.d and /etc/modules: one module name a line, '#' or ';' comments.
 */
export interface ModprobeDirective {
  /** First line of the (possibly continued) directive. */
  line: number;
  directive: string;
  /** The module (or alias wildcard) it names. */
  module: string | null;
  /** Everything after the module, as written (the command for install/remove). */
  args: string;
  raw: string;
}

export const MODPROBE_DIRECTIVES: ReadonlySet<string> = new Set(['alias', 'blacklist', 'install', 'remove', 'options', 'softdep', 'weakdep']);

export function parseModprobeConf(text: string): { directives: ModprobeDirective[]; bad: number[] } {
  const directives: ModprobeDirective[] = [];
  const bad: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let raw = lines[i]!.replace(/\r$/, '');
    let joined = raw;
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!.replace(/\r$/, '');
      raw += `\n${next}`;
      joined = joined.slice(0, -1) + next;
    }
    const s = joined.trim();
    if (s === '' || s.startsWith('#')) continue;
    const m = /^([^ \t]+)(?:[ \t]+([^ \t]+))?(?:[ \t]+([\s\S]*))?$/.exec(s);
    if (!m || !MODPROBE_DIRECTIVES.has(m[1]!)) {
      bad.push(start);
      continue;
    }
    directives.push({ line: start, directive: m[1]!, module: m[2] ?? null, args: (m[3] ?? '').trim(), raw });
  }
  return { directives, bad };
}

export interface ModuleLoadEntry {
  line: number;
  /** Module name, with any arguments /etc/modules allows after it. */
  module: string;
  args: string;
}

export function parseModulesLoad(text: string): ModuleLoadEntry[] {
  const out: ModuleLoadEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.replace(/\r$/, '').trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
    const [module, ...rest] = s.split(/[ \t]+/);
    out.push({ line: i + 1, module: module!, args: rest.join(' ') });
  });
  return out;
}
