import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { termSafe } from '../../lib/terminal.js';
import { UserError, errnoCode } from '../../lib/user-error.js';
import type { YaraXDiagnostic, YaraXModule, YaraXRules } from './engine.js';

/** Rules compiled together, and which file each rule name came from (YARA-X reports no file with a match). */
export interface RuleGroup {
  rules: YaraXRules;
  fileOf: Map<string, string>;
}

export interface CompiledRules {
  /** Usually one; more when files clash (the same rule name in two files) and had to be compiled apart. */
  groups: RuleGroup[];
  /** Rule files loaded, relative to the rules directory. */
  files: string[];
  ruleCount: number;
}

const EXTENSIONS = /\.(?:yar|yara)$/i;
const MAX_FILES = 10_000;
/** `rule NAME`, with private and global before it: the names a file declares. */
const RULE_DECL = /(?:^|[\s}])(?:(?:private|global)\s+)*rule\s+([A-Za-z_]\w{0,127})/g;

/**
 * Compiles every *.yar and *.yara file under `dir` (subdirectories too,
 * symlinked directories not followed, names sorted). Each file is checked on
 * its own first: one that does not compile is one problem line naming the file
 * and line, and the others still load. The good files are then compiled
 * together; when they clash with each other they are compiled in as few
 * groups as keeps each group consistent. Includes are resolved against the
 * including file's directory.
 */
export async function compileRulesDir(engine: YaraXModule, dir: string): Promise<{ compiled: CompiledRules | null; problems: string[] }> {
  const files = await ruleFiles(dir);
  const problems: string[] = [];
  const good: { rel: string; source: string; dir: string }[] = [];
  for (const file of files) {
    const rel = path.relative(dir, file);
    let source: string;
    try {
      source = await fsp.readFile(file, 'utf8');
    } catch (err) {
      problems.push(`${termSafe(rel)}: cannot be read (${errnoCode(err) ?? 'EIO'})`);
      continue;
    }
    const opts = { includeDirectories: [path.dirname(file)], enableIncludes: true };
    const { errors } = engine.validate(source, opts);
    if (errors.length > 0) {
      problems.push(`${termSafe(rel)}:${describe(errors[0]!)}`);
      continue;
    }
    good.push({ rel, source, dir: path.dirname(file) });
  }
  if (good.length === 0) return { compiled: null, problems };

  const groups: { members: typeof good }[] = [];
  const together = (members: typeof good) => ({
    source: members.map((m) => m.source).join('\n'),
    opts: { includeDirectories: [...new Set(members.map((m) => m.dir))], enableIncludes: true },
  });
  const all = together(good);
  if (engine.validate(all.source, all.opts).errors.length === 0) groups.push({ members: good });
  else {
    for (const g of good) {
      const fit = groups.find((grp) => {
        const t = together([...grp.members, g]);
        return engine.validate(t.source, t.opts).errors.length === 0;
      });
      if (fit) fit.members.push(g);
      else groups.push({ members: [g] });
    }
  }
  let ruleCount = 0;
  const compiled: RuleGroup[] = groups.map(({ members }) => {
    const t = together(members);
    const fileOf = new Map<string, string>();
    for (const m of members) for (const d of withoutComments(m.source).matchAll(RULE_DECL)) if (!fileOf.has(d[1]!)) fileOf.set(d[1]!, m.rel);
    ruleCount += fileOf.size;
    return { rules: engine.compile(t.source, t.opts), fileOf };
  });
  return { compiled: { groups: compiled, files: good.map((g) => g.rel), ruleCount }, problems };
}

function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** "LINE: message" from YARA-X's diagnostic (its first line, with the line number its report carries). */
function describe(d: YaraXDiagnostic): string {
  const line = d.line ?? Number(/-->\s*line:(\d+)/.exec(d.message)?.[1] ?? NaN);
  const first = d.message.split('\n')[0]!.replace(/^error\[\w+\]:\s*/, '');
  const label = /^\s*\|\s*\^+\s*(\S.*)$/m.exec(d.message)?.[1];
  return `${Number.isFinite(line) ? `${line}:` : ''} ${termSafe(label && !first.includes(label) ? `${first}: ${label}` : first)} (${d.code})`;
}

async function ruleFiles(dir: string): Promise<string[]> {
  let st;
  try {
    st = await fsp.stat(dir);
  } catch (err) {
    throw new UserError(`--yara ${termSafe(dir)}: ${errnoCode(err) === 'ENOENT' ? 'does not exist' : 'cannot be read'}`);
  }
  if (!st.isDirectory()) throw new UserError(`--yara ${termSafe(dir)}: not a directory`);
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fsp.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (out.length >= MAX_FILES) return;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (EXTENSIONS.test(e.name) && (e.isFile() || (e.isSymbolicLink() && (await fsp.stat(p).catch(() => null))?.isFile()))) out.push(p);
    }
  };
  await walk(dir);
  if (out.length === 0) throw new UserError(`--yara ${termSafe(dir)}: no *.yar or *.yara files`);
  return out;
}
