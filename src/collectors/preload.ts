import path from 'node:path';
import { z } from 'zod';
import { loaderAssignments, parseLdSoConf, parsePreload } from '../host/ld-so-conf.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { FILE_COLUMNS, NO_FILE, describeFile, globHost, lineText, lstatHost, rawLines, readUsers, type FileColumns } from './persistence-files.js';

const Row = z.object({
  kind: z
    .enum(['file', 'preload', 'conf', 'environment'])
    .describe('file: a loader configuration file; preload: a library /etc/ld.so.preload (or LD_PRELOAD in /etc/environment) loads into every program; conf: an ld.so.conf directive; environment: an LD_* variable set in /etc/environment'),
  ...FILE_COLUMNS,
  source: z.string().nullable().describe('the configuration file the row comes from (for file rows: the file whose include pulled it in)'),
  lineNumber: z.number().int().nullable().describe('1-based line in source'),
  raw: z.string().nullable().describe('the whole line as written (invalid UTF-8 as %XX)'),
  directive: z.enum(['include', 'directory', 'hwcap']).nullable().describe('conf rows: what the ld.so.conf line does'),
  value: z.string().nullable().describe('the library, include pattern, directory or variable value as written'),
  variable: z.string().nullable().describe('environment and preload rows from /etc/environment: LD_PRELOAD, LD_LIBRARY_PATH or LD_AUDIT'),
  exists: z.boolean().nullable().describe('preload and directory rows: whether the path exists on the host; null when it cannot be checked (a bare name or $LIB/$PLATFORM token)'),
});

type Row = z.infer<typeof Row>;

const BLANK = { source: null, lineNumber: null, raw: null, directive: null, value: null, variable: null, exists: null } as const;
const MAX_INCLUDE_DEPTH = 8;

function lineAt(data: Buffer, n: number): string | null {
  const l = rawLines(data)[n - 1];
  return l ? lineText(l).text : null;
}

/** Describes a library path without a raw copy of a directory; a preloaded library is always copied (it is the evidence). */
async function pathFacts(ctx: CollectorContext, p: string, names: Map<number, string>): Promise<{ columns: FileColumns; exists: boolean | null }> {
  if (!p.startsWith('/') || p.includes('$')) return { columns: { ...NO_FILE, path: p }, exists: null };
  const d = await describeFile(ctx, p, names, { keep: true, maxBytes: 64 * 1024 * 1024 });
  return d ? { columns: d.columns, exists: d.columns.fileType !== 'symlink' || d.columns.ownerUid !== null } : { columns: { ...NO_FILE, path: p }, exists: false };
}

async function* preloadFile(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const d = await describeFile(ctx, '/etc/ld.so.preload', names);
  if (!d) return;
  yield { kind: 'file', ...d.columns, ...BLANK };
  if (!d.read) return;
  for (const e of parsePreload(d.read.data.toString('latin1'))) {
    const library = Buffer.from(e.library, 'latin1');
    const lib = lineText(library).text;
    const f = await pathFacts(ctx, lib, names);
    yield { kind: 'preload', ...f.columns, ...BLANK, source: '/etc/ld.so.preload', lineNumber: e.line, raw: lineAt(d.read.data, e.line), value: lib, exists: f.exists };
  }
}

async function* ldSoConf(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const seen = new Set<string>();
  async function* visit(file: string, from: string | null, depth: number): AsyncGenerator<Row> {
    if (seen.has(file)) return;
    seen.add(file);
    const d = await describeFile(ctx, file, names);
    if (!d) return;
    yield { kind: 'file', ...d.columns, ...BLANK, source: from };
    if (!d.read) return;
    for (const dir of parseLdSoConf(d.read.data.toString('utf8'))) {
      const base = { kind: 'conf' as const, ...BLANK, source: file, lineNumber: dir.line, raw: lineAt(d.read.data, dir.line), directive: dir.directive, value: dir.value };
      if (dir.directive === 'directory') {
        const p = dir.value.replace(/=.*$/, ''); // legacy "DIR=TYPE"
        const st = p.startsWith('/') ? await lstatHost(ctx, p) : null;
        const facts = st ? await describeFile(ctx, p, names, { keep: false }) : null;
        yield { ...base, ...(facts?.columns ?? { ...NO_FILE, path: p }), exists: p.startsWith('/') ? st !== null : null };
        continue;
      }
      yield { ...base, ...NO_FILE, path: file };
      if (dir.directive !== 'include') continue;
      if (depth >= MAX_INCLUDE_DEPTH) {
        ctx.error(file, 'ELOOP', `include ${dir.value} nests deeper than ${MAX_INCLUDE_DEPTH}; not followed`);
        continue;
      }
      const pattern = dir.value.startsWith('/') ? dir.value : path.posix.join(path.posix.dirname(file), dir.value);
      for (const inc of await globHost(ctx, pattern)) yield* visit(inc, file, depth + 1);
    }
  }
  yield* visit('/etc/ld.so.conf', null, 0);
}

async function* environment(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const read = await ctx.read('/etc/environment', { keep: false });
  if (!read) return;
  for (const a of loaderAssignments(read.data.toString('utf8'))) {
    const raw = lineAt(read.data, a.line);
    yield { kind: 'environment', ...NO_FILE, path: '/etc/environment', ...BLANK, source: '/etc/environment', lineNumber: a.line, raw, value: a.value, variable: a.name };
    if (a.name !== 'LD_PRELOAD') continue;
    for (const lib of a.value.split(/[ :]+/).filter(Boolean)) {
      const f = await pathFacts(ctx, lib, names);
      yield { kind: 'preload', ...f.columns, ...BLANK, source: '/etc/environment', lineNumber: a.line, raw, value: lib, variable: a.name, exists: f.exists };
    }
  }
}

export const preloadCollector = defineCollector({
  name: 'preload',
  title: 'Dynamic loader preloading and library paths',
  description:
    'What the dynamic loader injects or searches: every library listed in /etc/ld.so.preload (loaded into every dynamically ' +
    'linked program, the classic user-space rootkit hook), with whether it exists, its owner, mtime and SHA-256 and a raw copy ' +
    'of it; /etc/ld.so.conf and every file its include lines reach, with the library directories they add (owner and mode: a ' +
    'directory others can write lets them plant libraries); and LD_PRELOAD, LD_LIBRARY_PATH or LD_AUDIT set for every session ' +
    'in /etc/environment. On a clean host /etc/ld.so.preload does not exist: any preload row deserves a look, and so does a ' +
    'library that no package owns or that lives in /tmp, /dev/shm or a hidden directory. A preloaded library that no longer ' +
    'exists on disk still says one was planted.',
  preconditions: 'Any host; works the same on a mounted image (--root). /etc/environment is copied by shell-startup, not here.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const { names } = await readUsers(ctx);
    yield* preloadFile(ctx, names);
    yield* ldSoConf(ctx, names);
    yield* environment(ctx, names);
  },
});
