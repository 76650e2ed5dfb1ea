import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { parseBinfmtD, parseBinfmtEntry } from '../host/binfmt.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { FILE_COLUMNS, NO_FILE, describeFile, describeRawEntry, lineText, listDir, readUsers, resolvedHostPath } from './persistence-files.js';

const Row = z.object({
  kind: z
    .enum(['handler', 'status', 'file', 'registration'])
    .describe('handler: a binfmt_misc handler registered in the running kernel; status: whether binfmt_misc is enabled; file: a binfmt.d file; registration: one of its lines (registered at boot by systemd-binfmt)'),
  ...FILE_COLUMNS,
  name: z.string().nullable().describe('handler and registration rows: the handler name'),
  enabled: z.boolean().nullable().describe('handler and status rows: enabled or disabled'),
  interpreter: z.string().nullable().describe('handler and registration rows: the program the kernel runs for matching files (path and sha256 describe it)'),
  flags: z.string().nullable().describe('handler and registration rows: P preserve argv[0], O pass an open file, C run with the matched binary\'s credentials (setuid through an interpreter), F interpreter opened at registration (works even if later deleted)'),
  matchType: z.enum(['magic', 'extension']).nullable().describe('handler and registration rows: match by leading bytes or by file name extension'),
  offset: z.string().nullable().describe('handler and registration rows: byte offset of the magic'),
  magic: z.string().nullable().describe('handler rows: magic bytes in hex as the kernel shows them; registration rows: as written (escapes kept); for extension handlers the extension'),
  mask: z.string().nullable().describe('handler and registration rows: mask applied before comparing the magic'),
  source: z.string().nullable().describe('registration rows: the binfmt.d file; handler rows: the /proc file'),
  lineNumber: z.number().int().nullable().describe('registration rows: 1-based line'),
  raw: z.string().nullable().describe('handler rows: the /proc entry as the kernel printed it; registration rows: the line as written'),
});

type Row = z.infer<typeof Row>;

const BLANK = {
  name: null,
  enabled: null,
  interpreter: null,
  flags: null,
  matchType: null,
  offset: null,
  magic: null,
  mask: null,
  source: null,
  lineNumber: null,
  raw: null,
};

const BINFMT_D = ['/etc/binfmt.d', '/run/binfmt.d', '/usr/local/lib/binfmt.d', '/usr/lib/binfmt.d', '/lib/binfmt.d'];

async function interpreterColumns(ctx: CollectorContext, p: string | null, names: Map<number, string>) {
  if (!p || !p.startsWith('/')) return { ...NO_FILE, path: p ?? '' };
  // interpreters are ordinary programs (qemu, wine, python): hashed, not copied
  const d = await describeFile(ctx, p, names, { keep: false, maxBytes: 256 * 1024 * 1024 });
  return d?.columns ?? { ...NO_FILE, path: p, fileType: 'missing' as const };
}

async function* handlers(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const dir = ctx.host.procPath('sys/fs/binfmt_misc');
  if (dir === null) return;
  let entries: string[];
  try {
    entries = (await fsp.readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    if (code !== 'ENOENT') ctx.error('/proc/sys/fs/binfmt_misc', code, 'not listed');
    return;
  }
  for (const e of entries) {
    if (ctx.signal.aborted) return;
    if (e === 'register') continue;
    const r = await ctx.readProc(`sys/fs/binfmt_misc/${e}`, { keep: true, maxBytes: 64 * 1024 });
    if (!r) continue;
    const text = r.data.toString('utf8');
    if (e === 'status') {
      yield { kind: 'status', ...NO_FILE, path: '/proc/sys/fs/binfmt_misc/status', ...BLANK, enabled: text.trim() === 'enabled', source: '/proc/sys/fs/binfmt_misc/status', raw: text };
      continue;
    }
    const h = parseBinfmtEntry(text);
    yield {
      kind: 'handler',
      ...(await interpreterColumns(ctx, h.interpreter, names)),
      ...BLANK,
      name: e,
      enabled: h.enabled,
      interpreter: h.interpreter,
      flags: h.flags,
      matchType: h.extension !== null ? 'extension' : 'magic',
      offset: h.offset === null ? null : String(h.offset),
      magic: h.extension ?? h.magic,
      mask: h.mask,
      source: `/proc/sys/fs/binfmt_misc/${e}`,
      raw: text,
    };
  }
}

async function* configs(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const seen = new Set<string>();
  for (const dir of BINFMT_D) {
    const real = await resolvedHostPath(ctx, dir);
    if (real === null || seen.has(real)) continue; // /lib is /usr/lib on merged-/usr systems
    seen.add(real);
    for (const ent of await listDir(ctx, dir)) {
      if (ctx.signal.aborted) return;
      const d = await describeRawEntry(ctx, dir, ent, names);
      if (!d || d.columns.fileType === 'directory') continue;
      yield { kind: 'file', ...d.columns, ...BLANK };
      if (!d.read) continue;
      const text = d.read.data.toString('latin1');
      const { registrations, bad } = parseBinfmtD(text);
      for (const n of bad) ctx.error(ent.hostPath, 'EPARSE', `line ${n} is not a binfmt_misc registration`);
      const enc = (s: string) => lineText(Buffer.from(s, 'latin1')).text;
      for (const r of registrations) {
        const interpreter = enc(r.interpreter);
        yield {
          kind: 'registration',
          ...(await interpreterColumns(ctx, interpreter, names)),
          ...BLANK,
          name: enc(r.name),
          interpreter,
          flags: enc(r.flags),
          matchType: r.type === 'E' ? 'extension' : 'magic',
          offset: enc(r.offset),
          magic: enc(r.magic),
          mask: enc(r.mask),
          source: ent.hostPath,
          lineNumber: r.line,
          raw: enc(r.raw),
        };
      }
    }
  }
}

export const binfmtCollector = defineCollector({
  name: 'binfmt',
  title: 'binfmt_misc handlers',
  description:
    'Interpreters the kernel runs for executed files that match a magic number or a file name extension: the handlers ' +
    'registered now (/proc/sys/fs/binfmt_misc, with interpreter, flags, magic, mask and whether enabled) and the ' +
    'registrations systemd-binfmt makes at boot from binfmt.d. A handler is a stealthy persistence and privilege trick: an ' +
    'interpreter in /tmp or a home, a handler matching ELF or script magic, or the C flag (the interpreter runs with the ' +
    'credentials of a setuid binary it was handed) all deserve a look; qemu-user, wine, mono, java and python handlers are ' +
    'common and harmless. Interpreters are described (owner, mtime, SHA-256), not copied.',
  preconditions: 'Registered handlers need the live host (binfmt_misc mounted) or --proc DIR with a saved copy; binfmt.d files are read on any host or image.',
  timeoutMs: 20_000,
  row: Row,
  async *collect(ctx) {
    const { names } = await readUsers(ctx);
    yield* handlers(ctx, names);
    yield* configs(ctx, names);
  },
});
