import { readFileSync, promises as fsp } from 'node:fs';
import type { CaseWriter } from '../../evidence/case-writer.js';
import { parseStat, type ProcStat } from '../../host/proc-pid.js';
import { encodeHostPath } from '../../lib/host-path.js';
import { errnoCode, errorMessage } from '../../lib/user-error.js';
import { HoleLog, PAGE_BYTES, readPieces } from './chunked-read.js';
import { EM_AARCH64, EM_X86_64, layoutCore, type CoreLayout, type CoreSegment } from './core-layout.js';
import { auxvNote, fileNote, prpsinfoNote } from './core-notes.js';
import { PF_R, PF_W, PF_X } from './elf64.js';
import { freezeProcess, type Frozen } from './freeze.js';
import { fromHandle } from './positioned-file.js';
import { copyExe, keepDescriptors, netTables } from './process-files.js';
import { Progress } from './progress.js';
import { kernelRegion, parseMaps, parseSmapsRss, type Mapping } from './proc-maps.js';
import type { ReadPiece } from './read-plan.js';
import { ProcessSidecar, hexAddr, timing, type RegionEntry } from './sidecar.js';

export interface ProcessDumpOptions {
  freeze: boolean;
  signal: AbortSignal;
  progress: NodeJS.WriteStream | null;
  /** Called as memory bytes are read (before they are written). */
  onBytes?: (n: number) => void;
}

export interface ProcessDumpResult {
  pid: number;
  status: 'complete' | 'partial';
  statusReason: string | null;
  core: string | null;
  sha256: string | null;
  holes: number;
}

const MACHINES: Record<string, number> = { x64: EM_X86_64, arm64: EM_AARCH64 };
const COLLECTOR = 'memory';

interface Region {
  map: Mapping;
  rss: number | null;
  inCore: RegionEntry['inCore'];
  note?: string;
}

/**
 * One process: an ELF core from /proc/PID/maps and /proc/PID/mem (one PT_LOAD
 * per mapping, resident ones with their bytes), then the executable (even if
 * deleted), maps, smaps, status, stat, cmdline, environ, auxv, the descriptor
 * links and the socket tables of its network namespace. With freeze, the
 * process is stopped for the whole of it and always resumed.
 */
export async function dumpProcess(writer: CaseWriter, pid: number, opts: ProcessDumpOptions): Promise<ProcessDumpResult> {
  const dir = `acquired/${pid}`;
  const proc = `/proc/${pid}`;
  const started = new Date();
  const files: string[] = [];
  const problems: string[] = [];
  let frozen: Frozen | null = null;

  const readProc = async (name: string): Promise<Buffer | null> => {
    try {
      return await fsp.readFile(`${proc}/${name}`);
    } catch (err) {
      writer.recordError({ collector: COLLECTOR, path: `${proc}/${name}`, code: errnoCode(err) ?? 'EREAD', message: errorMessage(err) });
      return null;
    }
  };
  const keep = async (name: string, data: Buffer | null): Promise<void> => {
    if (data === null) return;
    const a = await writer.addBuffer(`${dir}/${name}`, data, { source: `${proc}/${name}`, collector: COLLECTOR });
    files.push(a.path);
  };

  try {
    if (opts.freeze) {
      try {
        frozen = await freezeProcess(pid);
      } catch (err) {
        problems.push(`could not stop the process (${errnoCode(err) ?? errorMessage(err)}); dumped while it ran`);
      }
    }
    await writer.appendCustody({ event: 'process-dump-started', pid, freeze: frozen?.record.method ?? null });
    const statRaw = await readProc('stat');
    const stat = statRaw ? parseStat(statRaw) : null;
    const alive = () => stat !== null && stillRunning(pid, stat.startTicks);
    const [maps, smaps, status, cmdline, environ, auxv] = await Promise.all([readProc('maps'), readProc('smaps'), readProc('status'), readProc('cmdline'), readProc('environ'), readProc('auxv')]);
    const regions = maps ? classify(parseMaps(maps).mappings, smaps ? parseSmapsRss(smaps) : new Map()) : [];

    let core: CoreArtefact | null = null;
    const holes = new HoleLog();
    if (!stat || !maps) problems.push('the process is gone or its /proc files cannot be read');
    else if (regions.length === 0) problems.push('no user memory (a kernel thread or a zombie)');
    else {
      const mem = await openMem(proc);
      if ('reason' in mem) {
        problems.push(mem.reason);
        writer.recordError({ collector: COLLECTOR, path: `${proc}/mem`, code: mem.code, message: mem.reason });
      } else {
        try {
          const notes = Buffer.concat([
            prpsinfoNote({ ...prpsinfoFrom(stat, status), cmdline: cmdline ?? Buffer.alloc(0) }),
            ...(auxv ? [auxvNote(auxv)] : []),
            fileNote(fileMappings(regions), PAGE_BYTES),
          ]);
          core = await writeCore(writer, `${dir}/core`, proc, mem.fh, regions, notes, { ...opts, holes, alive });
          files.push(core.path);
        } finally {
          await mem.fh.close();
        }
        if (holes.holes.some((h) => h.code === 'EXITED')) problems.push('the process exited during the dump; the rest of the core is zero-filled');
        if (holes.holes.some((h) => h.code === 'INTERRUPTED')) problems.push('interrupted; the rest of the core is zero-filled');
      }
    }

    for (const [name, data] of [['maps', maps], ['smaps', smaps], ['status', status], ['stat', statRaw], ['cmdline', cmdline], ['environ', environ], ['auxv', auxv]] as const) {
      await keep(name, data);
    }
    const exe = await copyExe(writer, pid, dir, files);
    await keepDescriptors(writer, pid, dir, files);
    for (const [name, data] of await netTables(pid)) await keep(name, data);

    // Resumed before the sidecar is written, so it records when the process ran again.
    frozen?.resume();
    const ended = new Date();
    const statusReason = problems.length > 0 ? problems.join('; ') : null;
    const sidecar: ProcessSidecar = {
      schema: 'goldhour.process-core/1',
      pid,
      status: statusReason ? 'partial' : 'complete',
      statusReason,
      comm: stat ? encodeHostPath(stat.comm).text : null,
      exe,
      core,
      notes: core ? ['NT_PRPSINFO', ...(auxv ? ['NT_AUXV'] : []), 'NT_FILE'] : [],
      freeze: frozen ? { ...frozen.record } : null,
      regions: regions.map(regionEntry),
      holes: holes.holes.map((h) => ({ address: hexAddr(h.address), length: h.length, code: h.code })),
      holeBytes: holes.bytes,
      files,
      timing: timing(started, ended, core?.size ?? 0),
    };
    await writer.addBuffer(`${dir}/core.json`, Buffer.from(`${JSON.stringify(ProcessSidecar.parse(sidecar), null, 2)}\n`), { source: null, collector: COLLECTOR });
    await writer.appendCustody({ event: 'process-dump', pid, core: core?.path ?? null, sha256: core?.sha256 ?? null, status: sidecar.status, reason: statusReason });
    return { pid, status: sidecar.status, statusReason, core: core?.path ?? null, sha256: core?.sha256 ?? null, holes: holes.holes.length };
  } finally {
    frozen?.resume();
  }
}

interface CoreArtefact {
  path: string;
  sha256: string;
  size: number;
}

/** The core itself: headers and notes, then the resident mappings read from /proc/PID/mem. */
async function writeCore(
  writer: CaseWriter,
  name: string,
  proc: string,
  fh: fsp.FileHandle,
  regions: Region[],
  notes: Buffer,
  opts: ProcessDumpOptions & { holes: HoleLog; alive: () => boolean },
): Promise<CoreArtefact> {
  const inCore = regions.filter((r) => r.inCore !== 'skipped');
  const segments = inCore.map(segmentOf);
  const layout = layoutCore(machine(), segments, notes);
  const pieces: ReadPiece[] = inCore
    .filter((r) => r.inCore === 'read')
    .map((r) => ({ address: Number(r.map.start), position: Number(r.map.start), length: Number(r.map.end - r.map.start) }));
  const progress = new Progress(`pid ${proc.slice('/proc/'.length)}`, pieces.reduce((n, p) => n + p.length, 0), opts.progress);
  const onBytes = (n: number) => {
    progress.add(n);
    opts.onBytes?.(n);
  };
  const memory = readPieces(fromHandle(fh), pieces, { holes: opts.holes, alive: opts.alive, signal: opts.signal, onBytes });
  const a = await writer.addStream(name, coreBytes(layout, segments, memory), layout.size, { source: `${proc}/mem`, collector: COLLECTOR });
  progress.finish();
  return { path: a.path, sha256: a.sha256, size: a.size };
}

/** The same process (not a reused pid), and not a zombie: a zombie's memory is already gone. */
function stillRunning(pid: number, startTicks: number): boolean {
  try {
    const s = parseStat(readFileSync(`/proc/${pid}/stat`));
    return s !== null && s.startTicks === startTicks && s.state !== 'Z' && s.state !== 'X';
  } catch {
    return false;
  }
}

function machine(): number {
  const m = MACHINES[process.arch];
  if (m === undefined) throw new Error(`process cores are written for x86-64 and arm64 only, not ${process.arch}`);
  return m;
}

/**
 * Which mappings go into the core and how: the kernel's own shared pages are
 * left out; a mapping with nothing resident (smaps Rss 0: an untouched
 * reservation, a guard page, an unread part of a library) becomes a PT_LOAD
 * without bytes, so gigabytes of reservations are never read page by page.
 */
function classify(mappings: Mapping[], rss: Map<bigint, number>): Region[] {
  return mappings.map((map) => {
    const r = rss.get(map.start) ?? null;
    const kernel = kernelRegion(map.path);
    if (kernel) return { map, rss: r, inCore: 'skipped', note: kernel };
    if (map.end > BigInt(Number.MAX_SAFE_INTEGER)) return { map, rss: r, inCore: 'skipped', note: 'above the addresses that can be read' };
    if (r === 0) return { map, rss: r, inCore: 'not-resident', note: 'nothing resident (smaps Rss 0): a PT_LOAD without bytes' };
    return { map, rss: r, inCore: 'read' };
  });
}

function segmentOf(r: Region): CoreSegment {
  const size = Number(r.map.end - r.map.start);
  const p = r.map.perms;
  const flags = (p[0] === 'r' ? PF_R : 0) | (p[1] === 'w' ? PF_W : 0) | (p[2] === 'x' ? PF_X : 0);
  return { vaddr: Number(r.map.start), memsz: size, filesz: r.inCore === 'read' ? size : 0, flags };
}

function fileMappings(regions: Region[]) {
  return regions
    .filter((r) => r.map.inode !== 0n && r.map.path.length > 0 && r.map.end <= BigInt(Number.MAX_SAFE_INTEGER))
    .map((r) => ({ start: r.map.start, end: r.map.end, offset: r.map.offset, path: r.map.path }));
}

function prpsinfoFrom(stat: ProcStat, status: Buffer | null) {
  const uid = /^Uid:\s+(\d+)/m.exec(status?.toString('latin1') ?? '');
  const gid = /^Gid:\s+(\d+)/m.exec(status?.toString('latin1') ?? '');
  return {
    state: stat.state,
    flags: stat.flags,
    uid: uid ? Number(uid[1]) : 0,
    gid: gid ? Number(gid[1]) : 0,
    pid: stat.pid,
    ppid: stat.ppid,
    pgrp: stat.pgrp,
    sid: stat.session,
    comm: stat.comm,
  };
}

async function openMem(proc: string): Promise<{ fh: fsp.FileHandle } | { reason: string; code: string }> {
  try {
    return { fh: await fsp.open(`${proc}/mem`, 'r') };
  } catch (err) {
    const code = errnoCode(err) ?? 'EOPEN';
    const why = code === 'EACCES' || code === 'EPERM' ? ' (needs CAP_SYS_PTRACE; Yama ptrace_scope or an LSM may forbid it)' : '';
    return { reason: `cannot read ${proc}/mem: ${code}${why}`, code };
  }
}

async function* coreBytes(layout: CoreLayout, segments: CoreSegment[], memory: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  yield layout.head;
  const it = memory[Symbol.asyncIterator]();
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    for (let left = s.filesz; left > 0; ) {
      const next = await it.next();
      if (next.done) throw new Error('memory reader ended before the core did');
      left -= next.value.length;
      yield next.value;
    }
    const end = i + 1 < segments.length ? layout.offsets[i + 1]! : layout.size;
    const pad = end - layout.offsets[i]! - s.filesz;
    if (pad > 0) yield Buffer.alloc(pad);
  }
}

function regionEntry(r: Region): RegionEntry {
  const p = encodeHostPath(r.map.path);
  return {
    start: hexAddr(r.map.start),
    end: hexAddr(r.map.end),
    perms: r.map.perms,
    offset: hexAddr(r.map.offset),
    dev: r.map.dev,
    inode: r.map.inode.toString(),
    path: p.text,
    ...(p.base64 ? { pathBase64: p.base64 } : {}),
    rssBytes: r.rss,
    inCore: r.inCore,
    ...(r.note ? { note: r.note } : {}),
  };
}
