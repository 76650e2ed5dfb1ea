import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { parseModprobeConf, parseModulesLoad } from '../host/modprobe-conf.js';
import { decodeTaint, moduleNameOfFile, parseProcModules, type ProcModule } from '../host/proc-modules.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { FILE_COLUMNS, NO_FILE, describeFile, listDir, mapPool, readUsers, resolvedHostPath, type FileColumns } from './persistence-files.js';

const Row = z.object({
  kind: z
    .enum(['loaded', 'sysfs', 'file', 'config', 'tainted'])
    .describe('loaded: a line of /proc/modules; sysfs: a /sys/module entry with no /proc/modules line (built-in, or a loaded module hidden from the list); file: a module configuration file; config: one of its directives; tainted: the kernel taint value'),
  ...FILE_COLUMNS,
  name: z.string().nullable().describe('loaded, sysfs and config rows: the module name (config rows: as written)'),
  size: z.number().int().nullable().describe('loaded rows: module size in memory (bytes); file rows: file size'),
  refcount: z.number().int().nullable().describe('loaded rows: how many users hold the module'),
  deps: z.array(z.string()).nullable().describe('loaded rows: modules that use this one'),
  state: z.string().nullable().describe('loaded rows: Live, Loading or Unloading; sysfs rows: /sys/module/NAME/initstate (null for built-in code)'),
  address: z.string().nullable().describe('loaded rows: load address (0x0 unless read with CAP_SYSLOG)'),
  taint: z.string().nullable().describe('loaded rows: the module\'s taint letters (O out-of-tree, E unsigned, P proprietary, F force-loaded); tainted row: the letters of every bit set'),
  version: z.string().nullable().describe('loaded and sysfs rows: MODULE_VERSION from /sys/module/NAME/version'),
  srcversion: z.string().nullable().describe('loaded and sysfs rows: /sys/module/NAME/srcversion (checksum of the module\'s source)'),
  inSysfs: z.boolean().nullable().describe('loaded rows: whether /sys/module/NAME exists (a module loaded but absent there hides its kobject)'),
  onDisk: z.boolean().nullable().describe('loaded rows: whether a file for the module exists under /lib/modules/RELEASE (null when that tree is absent or the release unknown); path and sha256 describe it (path is empty when there is none)'),
  release: z.string().nullable().describe('loaded rows: the running kernel release whose module tree was searched'),
  source: z.string().nullable().describe('config rows: the file holding the directive'),
  lineNumber: z.number().int().nullable().describe('config rows: 1-based line'),
  directive: z.string().nullable().describe('config rows: install (a command run instead of loading the module), remove, blacklist, options, alias, softdep, weakdep, or load (modules-load.d, /etc/modules)'),
  args: z.string().nullable().describe('config rows: everything after the module name (for install/remove: the shell command)'),
  raw: z.string().nullable().describe('config rows: the directive as written, continuation lines included'),
  value: z.string().nullable().describe('tainted row: /proc/sys/kernel/tainted as a decimal number'),
});

type Row = z.infer<typeof Row>;

const BLANK = {
  name: null,
  size: null,
  refcount: null,
  deps: null,
  state: null,
  address: null,
  taint: null,
  version: null,
  srcversion: null,
  inSysfs: null,
  onDisk: null,
  release: null,
  source: null,
  lineNumber: null,
  directive: null,
  args: null,
  raw: null,
  value: null,
};

const MODPROBE_DIRS = ['/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d'];
const MODULES_LOAD_DIRS = ['/etc/modules-load.d', '/run/modules-load.d', '/usr/local/lib/modules-load.d', '/usr/lib/modules-load.d', '/lib/modules-load.d'];
const MAX_MODULE_FILES = 200_000;

async function sysText(ctx: CollectorContext, p: string): Promise<string | null> {
  const r = await ctx.read(p, { keep: false, maxBytes: 4096 });
  if (!r) return null;
  const t = r.data.toString('utf8').trim();
  return t === '' ? null : t;
}

/** name → module files under /lib/modules/RELEASE (walked, not read from modules.dep, which is a file an intruder can edit). */
async function moduleFiles(ctx: CollectorContext, release: string): Promise<Map<string, string[]> | null> {
  const top = `/lib/modules/${release}`;
  const st = await ctx.host.lstat(top).catch(() => null);
  if (!st) return null;
  const map = new Map<string, string[]>();
  const stack = [top];
  let count = 0;
  while (stack.length > 0 && !ctx.signal.aborted && count < MAX_MODULE_FILES) {
    const dir = stack.pop()!;
    let real: string;
    try {
      real = await ctx.host.resolve(dir);
    } catch {
      continue;
    }
    let ents;
    try {
      ents = await fsp.readdir(real, { withFileTypes: true });
    } catch (err) {
      ctx.error(dir, (err as NodeJS.ErrnoException).code ?? 'EIO', 'module directory not listed');
      continue;
    }
    for (const e of ents) {
      count++;
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (dir === top && (e.name === 'build' || e.name === 'source')) continue;
        stack.push(p);
      } else if (e.isFile() || e.isSymbolicLink()) {
        const name = moduleNameOfFile(e.name);
        if (name) map.set(name, [...(map.get(name) ?? []), p]);
      }
    }
  }
  return map;
}

async function* loaded(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const procModules = await ctx.readProc('modules', { keep: true });
  const sysNames = (await listDir(ctx, '/sys/module')).map((e) => e.name);
  const sysSet = new Set(sysNames);
  let modules: ProcModule[] = [];
  if (procModules) {
    const parsed = parseProcModules(procModules.data.toString('utf8'));
    for (const n of parsed.bad) ctx.error('/proc/modules', 'EPARSE', `line ${n} does not parse`);
    modules = parsed.modules;
  }
  const release = (await ctx.readProc('sys/kernel/osrelease', { keep: false }))?.data.toString('utf8').trim() || null;
  const files = modules.length > 0 && release ? await moduleFiles(ctx, release) : null;
  const loadedRows = await mapPool(
    modules,
    8,
    async (m): Promise<Row> => {
      const inSysfs = sysSet.has(m.name);
      const [version, srcversion] = inSysfs
        ? await Promise.all([sysText(ctx, `/sys/module/${m.name}/version`), sysText(ctx, `/sys/module/${m.name}/srcversion`)])
        : [null, null];
      const paths = files?.get(m.name) ?? [];
      let columns: FileColumns = { ...NO_FILE, path: paths[0] ?? '' };
      if (paths[0]) columns = (await describeFile(ctx, paths[0], names, { keep: false, maxBytes: 256 * 1024 * 1024 }))?.columns ?? columns;
      return {
        kind: 'loaded',
        ...columns,
        ...BLANK,
        name: m.name,
        size: m.size,
        refcount: m.refcount,
        deps: m.deps,
        state: m.state,
        address: m.address,
        taint: m.taint,
        version,
        srcversion,
        inSysfs,
        onDisk: files === null ? null : paths.length > 0,
        release,
      };
    },
    ctx.signal,
  );
  yield* loadedRows.filter(Boolean);
  const inProc = new Set(modules.map((m) => m.name));
  const sysOnly = sysNames.filter((n) => !inProc.has(n));
  const sysRows = await mapPool(
    sysOnly,
    8,
    async (n): Promise<Row> => {
      const [initstate, version, srcversion] = await Promise.all([
        sysText(ctx, `/sys/module/${n}/initstate`),
        sysText(ctx, `/sys/module/${n}/version`),
        sysText(ctx, `/sys/module/${n}/srcversion`),
      ]);
      return { kind: 'sysfs', ...NO_FILE, path: `/sys/module/${n}`, ...BLANK, name: n, state: initstate, version, srcversion };
    },
    ctx.signal,
  );
  yield* sysRows.filter(Boolean);
}

async function* configs(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const seenDirs = new Set<string>();
  const files: { path: string; kind: 'modprobe' | 'load' }[] = [
    { path: '/etc/modprobe.conf', kind: 'modprobe' },
    { path: '/etc/modules', kind: 'load' },
  ];
  for (const [dirs, kind] of [
    [MODPROBE_DIRS, 'modprobe'],
    [MODULES_LOAD_DIRS, 'load'],
  ] as const) {
    for (const dir of dirs) {
      const real = await resolvedHostPath(ctx, dir);
      if (real === null || seenDirs.has(real)) continue; // /lib is /usr/lib on merged-/usr systems
      seenDirs.add(real);
      for (const e of await listDir(ctx, dir)) {
        if (e.rawName) {
          ctx.error(e.hostPath, 'EBADNAME', `name is not valid UTF-8 (raw base64 ${e.rawName.toString('base64')}); not read`);
          continue;
        }
        files.push({ path: e.hostPath, kind });
      }
    }
  }
  for (const f of files) {
    if (ctx.signal.aborted) return;
    const d = await describeFile(ctx, f.path, names);
    if (!d) continue;
    yield { kind: 'file', ...d.columns, ...BLANK, size: d.columns.size };
    if (!d.read) continue;
    const text = d.read.data.toString('utf8');
    const common = { kind: 'config' as const, ...NO_FILE, path: f.path, ...BLANK, source: f.path };
    if (f.kind === 'modprobe') {
      const { directives, bad } = parseModprobeConf(text);
      for (const n of bad) ctx.error(f.path, 'EPARSE', `line ${n} is not a modprobe.d directive`);
      for (const x of directives) yield { ...common, name: x.module, lineNumber: x.line, directive: x.directive, args: x.args, raw: x.raw };
    } else {
      const lines = text.split('\n');
      for (const x of parseModulesLoad(text)) yield { ...common, name: x.module, lineNumber: x.line, directive: 'load', args: x.args, raw: lines[x.line - 1] ?? null };
    }
  }
}

async function* tainted(ctx: CollectorContext): AsyncGenerator<Row> {
  const r = await ctx.readProc('sys/kernel/tainted', { keep: true });
  if (!r) return;
  const t = r.data.toString('utf8').trim();
  if (!/^\d+$/.test(t)) {
    ctx.error('/proc/sys/kernel/tainted', 'EPARSE', 'not a number');
    return;
  }
  yield { kind: 'tainted', ...NO_FILE, path: '/proc/sys/kernel/tainted', ...BLANK, value: t, taint: decodeTaint(BigInt(t)).join('') };
}

export const kernelModulesCollector = defineCollector({
  name: 'kernel-modules',
  title: 'Kernel modules',
  description:
    'Loaded kernel modules read from /proc/modules (size, users, state, taint letters such as (OE) for an out-of-tree ' +
    'unsigned module), with version and srcversion from /sys/module and the module file found by walking ' +
    '/lib/modules/RELEASE (its SHA-256; a loaded module with no file on disk is a fact worth a look). /sys/module entries ' +
    'missing from /proc/modules are listed too: built-in code has no initstate, but a loadable module there (initstate "live") ' +
    'that /proc/modules does not show is how several rootkits hide. Also the kernel taint value decoded, and module ' +
    'configuration: /etc/modules, modules-load.d (loaded at boot) and modprobe.d, whose `install NAME COMMAND` lines run a ' +
    'shell command whenever the module is requested (a persistence hook), plus blacklist, options and alias lines. Raw copies ' +
    'of /proc/modules, the taint value and every configuration file are kept.',
  preconditions: 'Loaded modules, /sys/module and taint need the live host (or --proc DIR for /proc/modules); on a mounted image (--root) only the configuration files are read.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const { names } = await readUsers(ctx);
    yield* loaded(ctx, names);
    yield* tainted(ctx);
    yield* configs(ctx, names);
  },
});
