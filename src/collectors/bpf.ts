import { z } from 'zod';
import { defineCollector, type CollectorContext } from './collector.js';
import { FILE_COLUMNS, NO_FILE, fileTypeOf, listDir, lstatHost, octalMode, readUsers } from './persistence-files.js';

const Row = z.object({
  kind: z
    .enum(['pinned', 'prog', 'map', 'link'])
    .describe('pinned: an object pinned under /sys/fs/bpf (survives the process that loaded it); prog, map, link: a loaded eBPF program, map or link as bpftool reports it'),
  ...FILE_COLUMNS,
  origin: z.enum(['bpffs', 'bpftool']).describe('bpffs: walked directly; bpftool: from the live host\'s bpftool (an external program, recorded with its SHA-256 in the manifest)'),
  bpfId: z.number().int().nullable().describe('prog, map and link rows: the kernel\'s id for the object'),
  bpfType: z.string().nullable().describe('prog rows: program type (kprobe, tracepoint, xdp, cgroup_skb, lsm…); map rows: map type; link rows: link type'),
  name: z.string().nullable().describe('prog and map rows: the name the loader gave (up to 15 characters)'),
  tag: z.string().nullable().describe('prog rows: hash of the program\'s instructions (same program, same tag)'),
  loadedAt: z.string().nullable().describe('prog rows: when the program was loaded (UTC)'),
  uid: z.number().int().nullable().describe('prog rows: uid that loaded it'),
  pids: z
    .array(z.object({ pid: z.number().int().describe('process id'), comm: z.string().describe('process name') }))
    .nullable()
    .describe('prog, map and link rows: processes holding the object open'),
  pinnedPaths: z.array(z.string()).nullable().describe('prog, map and link rows: where it is pinned in bpffs'),
  mapIds: z.array(z.number().int()).nullable().describe('prog rows: maps the program uses'),
  progId: z.number().int().nullable().describe('link rows: the program the link attaches'),
  raw: z.string().nullable().describe('prog, map and link rows: the whole bpftool JSON object'),
});

type Row = z.infer<typeof Row>;

const BLANK = {
  bpfId: null,
  bpfType: null,
  name: null,
  tag: null,
  loadedAt: null,
  uid: null,
  pids: null,
  pinnedPaths: null,
  mapIds: null,
  progId: null,
  raw: null,
};

const MAX_PINNED = 10_000;
const MAX_DEPTH = 16;

async function* pinned(ctx: CollectorContext, names: Map<number, string>): AsyncGenerator<Row> {
  const stack: { dir: string; depth: number }[] = [{ dir: '/sys/fs/bpf', depth: 0 }];
  let count = 0;
  while (stack.length > 0 && count < MAX_PINNED && !ctx.signal.aborted) {
    const { dir, depth } = stack.pop()!;
    for (const e of await listDir(ctx, dir)) {
      if (++count > MAX_PINNED) {
        ctx.error('/sys/fs/bpf', 'ETOOMANY', `more than ${MAX_PINNED} entries; the rest not listed`);
        break;
      }
      // pinned objects are never opened: only the bpf() syscall can read them
      const st = e.rawName ? null : await lstatHost(ctx, e.hostPath);
      const base = {
        kind: 'pinned' as const,
        ...NO_FILE,
        path: e.hostPath,
        pathBase64: e.rawName ? Buffer.concat([Buffer.from(`${dir}/`), e.rawName]).toString('base64') : null,
        origin: 'bpffs' as const,
        ...BLANK,
      };
      if (!st) {
        yield base;
        continue;
      }
      yield {
        ...base,
        fileType: fileTypeOf(st),
        owner: names.get(st.uid) ?? String(st.uid),
        ownerUid: st.uid,
        mode: octalMode(st.mode),
        size: st.size,
        mtime: st.mtime.toISOString(),
      };
      if (st.isDirectory() && depth < MAX_DEPTH) stack.push({ dir: e.hostPath, depth: depth + 1 });
    }
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

function pidsOf(v: unknown): Row['pids'] {
  if (!Array.isArray(v)) return null;
  return v.flatMap((p) => (p && typeof p === 'object' && num((p as { pid?: unknown }).pid) !== null ? [{ pid: num((p as { pid: unknown }).pid)!, comm: str((p as { comm?: unknown }).comm) ?? '' }] : []));
}

/** One bpftool JSON object → a row; every field is checked, since the program's output is not ours. */
export function bpftoolRow(kind: 'prog' | 'map' | 'link', o: Record<string, unknown>): Row {
  const loaded = num(o.loaded_at);
  const pinnedPaths = Array.isArray(o.pinned) ? o.pinned.filter((p): p is string => typeof p === 'string') : null;
  return {
    kind,
    ...NO_FILE,
    path: pinnedPaths?.[0] ?? '',
    origin: 'bpftool',
    ...BLANK,
    bpfId: num(o.id),
    bpfType: str(o.type),
    name: str(o.name),
    tag: str(o.tag),
    loadedAt: loaded === null || Math.abs(loaded) > 8.64e12 ? null : new Date(loaded * 1000).toISOString(),
    uid: num(o.uid),
    pids: pidsOf(o.pids),
    pinnedPaths,
    mapIds: Array.isArray(o.map_ids) ? o.map_ids.filter((x): x is number => Number.isSafeInteger(x)) : null,
    progId: num(o.prog_id),
    raw: JSON.stringify(o),
  };
}

async function* bpftool(ctx: CollectorContext): AsyncGenerator<Row> {
  for (const kind of ['prog', 'map', 'link'] as const) {
    if (ctx.signal.aborted) return;
    const run = await ctx.runTool('bpftool', ['-j', '-f', kind, 'show'], { purpose: `list loaded eBPF ${kind}s`, timeoutMs: 15_000 });
    if (!run) return; // not a live host, or no bpftool: the pinned walk is all there is
    if (run.exitCode !== 0) {
      ctx.error(run.path, 'ETOOL', `bpftool ${kind} show exited ${run.exitCode}: ${run.stderr.toString('utf8').slice(0, 300).trim()}`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(run.stdout.toString('utf8') || '[]');
    } catch {
      ctx.error(run.path, 'EPARSE', `bpftool ${kind} show did not print JSON`);
      continue;
    }
    if (!Array.isArray(parsed)) {
      ctx.error(run.path, 'EPARSE', `bpftool ${kind} show did not print a JSON array`);
      continue;
    }
    for (const o of parsed) if (o && typeof o === 'object' && !Array.isArray(o)) yield bpftoolRow(kind, o as Record<string, unknown>);
  }
}

export const bpfCollector = defineCollector({
  name: 'bpf',
  title: 'Loaded eBPF programs and maps',
  description:
    'eBPF objects in the running kernel. Objects pinned under /sys/fs/bpf are walked directly (name, owner, mode, mtime; ' +
    'their type needs the bpf() syscall). On a live host with bpftool installed, every loaded program, map and link is ' +
    'listed through `bpftool -j -f prog|map|link show` (an external program, recorded with its path and SHA-256 in the ' +
    'manifest; its JSON is kept under commands/): type, name, tag, load time, loading uid, the processes holding it and its ' +
    'pins. eBPF rootkits and backdoors (BPFDoor-style packet filters, kprobe or tracepoint programs hiding files or ' +
    'processes, XDP or tc programs that answer magic packets) show up here; systemd and container runtimes load ordinary ' +
    'cgroup programs, so look at the type, the name, the load time and who holds it.',
  preconditions: 'Live host for anything loaded (bpffs is in memory); root for bpftool; without bpftool only pinned objects are seen. Gives nothing on a mounted image.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const { names } = await readUsers(ctx);
    yield* pinned(ctx, names);
    yield* bpftool(ctx);
  },
});
