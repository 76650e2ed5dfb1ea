import { z } from 'zod';
import { PAM_MODULE_DIRS, pamExecCommand, parsePamFile } from '../host/pam-conf.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { FILE_COLUMNS, NO_FILE, describeFile, describeRawEntry, lineText, listDir, readUsers, type FileColumns } from './persistence-files.js';

const Row = z.object({
  kind: z
    .enum(['file', 'rule', 'include', 'bad-line'])
    .describe('file: a PAM configuration file, or a program a pam_exec rule runs; rule: one module line of a stack; include: an @include line; bad-line: a line PAM would not accept'),
  ...FILE_COLUMNS,
  service: z.string().nullable().describe('the service the stack is for (the file name under /etc/pam.d, or the first field of /etc/pam.conf)'),
  lineNumber: z.number().int().nullable().describe('1-based line in path (the first line of a line continued with \\)'),
  raw: z.string().nullable().describe('the line as written (invalid UTF-8 as %XX)'),
  type: z.string().nullable().describe('rule rows: auth, account, password or session'),
  quietIfMissing: z.boolean().nullable().describe('rule rows: the type was written with a leading "-" (a missing module is skipped without a log line)'),
  control: z.string().nullable().describe('rule rows: required, requisite, sufficient, optional, include, substack or [value=action …] as written'),
  controlActions: z
    .array(z.object({ value: z.string().describe('a PAM return value (success, default, ignore…)'), action: z.string().describe('what the stack does on it (ok, done, die, bad, ignore, reset or a jump count)') }))
    .nullable()
    .describe('rule rows with a [value=action] control: its pairs'),
  module: z.string().nullable().describe('rule rows: the module as written (pam_unix.so, an absolute path, or the service an include/substack control names); include rows: the file @include names'),
  args: z.array(z.string()).nullable().describe('rule rows: the module arguments, split as PAM splits them'),
  argsRaw: z.string().nullable().describe('rule rows: the arguments exactly as written'),
  modulePath: z.string().nullable().describe('rule rows: the module file PAM would load (first match in the module directories), or null when none exists'),
  moduleSha256: z.string().nullable().describe('rule rows: SHA-256 of that module file'),
  moduleOwnerUid: z.number().int().nullable().describe('rule rows: owner uid of that module file'),
  moduleMtime: z.string().nullable().describe('rule rows: mtime of that module file (UTC)'),
  execCommand: z.array(z.string()).nullable().describe('rule rows for pam_exec.so: the program and arguments it runs (the program is described by a file row)'),
  includedFrom: z.string().nullable().describe('file rows for pam_exec programs: the PAM file whose rule runs it'),
  reason: z.string().nullable().describe('bad-line rows: why PAM would not accept the line'),
});

type Row = z.infer<typeof Row>;

const BLANK = {
  service: null,
  lineNumber: null,
  raw: null,
  type: null,
  quietIfMissing: null,
  control: null,
  controlActions: null,
  module: null,
  args: null,
  argsRaw: null,
  modulePath: null,
  moduleSha256: null,
  moduleOwnerUid: null,
  moduleMtime: null,
  execCommand: null,
  includedFrom: null,
  reason: null,
};

interface ModuleFacts {
  path: string | null;
  columns: FileColumns | null;
}

/** Finds and hashes module files once each (no raw copy: package files; the packages collector checks them). */
function moduleResolver(ctx: CollectorContext, names: Map<number, string>) {
  const cache = new Map<string, Promise<ModuleFacts>>();
  const find = async (module: string): Promise<ModuleFacts> => {
    const candidates = module.startsWith('/') ? [module] : PAM_MODULE_DIRS.map((d) => `${d}/${module}`);
    for (const p of candidates) {
      if (module.includes('\0')) break;
      const d = await describeFile(ctx, p, names, { keep: false, maxBytes: 64 * 1024 * 1024 });
      if (d && d.columns.fileType !== 'directory') return { path: p, columns: d.columns };
    }
    return { path: null, columns: null };
  };
  return (module: string) => {
    let p = cache.get(module);
    if (!p) cache.set(module, (p = find(module)));
    return p;
  };
}

async function* stack(
  ctx: CollectorContext,
  path: string,
  described: { columns: FileColumns; read: { data: Buffer } | null },
  pamConf: boolean,
  service: string | null,
  resolve: (m: string) => Promise<ModuleFacts>,
  names: Map<number, string>,
  execSeen: Set<string>,
): AsyncGenerator<Row> {
  yield { kind: 'file', ...described.columns, ...BLANK, service };
  if (!described.read) return;
  const text = described.read.data.toString('latin1'); // byte-for-byte; text fields are re-encoded below
  const { entries, bad } = parsePamFile(text, { pamConf });
  const enc = (s: string) => lineText(Buffer.from(s, 'latin1')).text;
  const common = { ...NO_FILE, path, pathBase64: described.columns.pathBase64 };
  for (const b of bad) yield { kind: 'bad-line', ...common, ...BLANK, service, lineNumber: b.line, raw: enc(b.raw), reason: b.reason };
  for (const e of entries) {
    if (e.kind === 'include') {
      yield { kind: 'include', ...common, ...BLANK, service, lineNumber: e.line, raw: enc(e.raw), module: enc(e.target) };
      continue;
    }
    const isInclude = e.control === 'include' || e.control === 'substack';
    const mod = isInclude ? { path: null, columns: null } : await resolve(enc(e.module));
    const args = e.args.map(enc);
    const isExec = /(^|\/)pam_exec\.so$/.test(e.module);
    const exec = isExec ? pamExecCommand(args) : null;
    yield {
      kind: 'rule',
      ...common,
      ...BLANK,
      service: e.service !== null ? enc(e.service) : service,
      lineNumber: e.line,
      raw: enc(e.raw),
      type: e.type,
      quietIfMissing: e.quietIfMissing,
      control: enc(e.control),
      controlActions: e.controlActions?.map((a) => ({ value: enc(a.value), action: enc(a.action) })) ?? null,
      module: enc(e.module),
      args,
      argsRaw: enc(e.argsRaw),
      modulePath: mod.path,
      moduleSha256: mod.columns?.sha256 ?? null,
      moduleOwnerUid: mod.columns?.ownerUid ?? null,
      moduleMtime: mod.columns?.mtime ?? null,
      execCommand: exec,
    };
    const program = exec?.[0];
    if (program?.startsWith('/') && !execSeen.has(program)) {
      execSeen.add(program);
      const f = await describeFile(ctx, program, names, { keep: true, maxBytes: 64 * 1024 * 1024 });
      yield { kind: 'file', ...(f?.columns ?? { ...NO_FILE, path: program, fileType: 'missing' as const }), ...BLANK, service, includedFrom: path };
    }
  }
}

export const pamCollector = defineCollector({
  name: 'pam',
  title: 'PAM authentication stacks',
  description:
    'Every PAM stack: /etc/pam.d/* and /etc/pam.conf, one row per line with its type (auth, account, password, session), ' +
    'control (including [value=action] forms), module and arguments exactly as written, plus the module file PAM would ' +
    'load with its SHA-256, owner and mtime (null when no such file exists). Look for modules outside the system module ' +
    'directory or not owned by a package (a backdoored pam_unix.so or an extra .so that logs passwords), pam_exec.so rules ' +
    '(the program they run is described and copied, expose_authtok hands it the password), rules that always succeed such as ' +
    '`auth sufficient pam_succeed_if.so uid >= 0` or pam_permit.so in an auth stack, and recently changed files. Raw copies ' +
    'of every configuration file are kept; module files are hashed, not copied.',
  preconditions: 'Any host using Linux-PAM; works the same on a mounted image (--root).',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const { names } = await readUsers(ctx);
    const resolve = moduleResolver(ctx, names);
    const execSeen = new Set<string>();
    const conf = await describeFile(ctx, '/etc/pam.conf', names);
    if (conf) yield* stack(ctx, '/etc/pam.conf', conf, true, null, resolve, names, execSeen);
    for (const e of await listDir(ctx, '/etc/pam.d')) {
      if (ctx.signal.aborted) return;
      const d = await describeRawEntry(ctx, '/etc/pam.d', e, names);
      if (!d || d.columns.fileType === 'directory') continue;
      yield* stack(ctx, e.hostPath, d, false, e.name, resolve, names, execSeen);
    }
  },
});
