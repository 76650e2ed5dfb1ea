import { HostReadError, type Host } from '../../host/host.js';
import { errnoCode, errorMessage } from '../../lib/user-error.js';
import type { Hit } from '../rule.js';
import type { Source } from '../rows.js';
import type { CompiledRules } from './compile.js';
import type { YaraXMatch } from './engine.js';
import { processMemory, type MemoryReadNotes } from './process-memory.js';

/** What to scan: a file of the host, the executable of a running process (through /proc/PID/exe), or its memory. */
export type YaraTarget =
  | { kind: 'file'; path: string; sha256?: string | null; collector?: Source }
  | { kind: 'exe'; pid: number; exe: string | null; sha256?: string | null }
  | { kind: 'memory'; pid: number; exe: string | null };

export interface YaraProblem {
  path: string;
  code: string;
  message: string;
}

export interface YaraScanOptions {
  /** Bytes of a file read and scanned; the rest of a larger file is not (noted in the finding). Default 64 MiB. */
  maxFileBytes?: number;
  /** Bytes of one process's memory scanned. Default 4 GiB. */
  maxProcessBytes?: number;
  signal?: AbortSignal;
  onProblem?: (p: YaraProblem) => void;
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_PROCESS_BYTES = 4 * 1024 * 1024 * 1024;
/** Matched strings listed in one finding; the rest are counted. */
const MAX_STRINGS = 20;
/** Matches of one pattern YARA-X keeps per scan: a string found a million times is one fact. */
const MAX_MATCHES_PER_PATTERN = 100;

interface RuleHit {
  rule: string;
  ruleFile: string | null;
  tags: string[];
  strings: Set<string>;
}

/**
 * Scans host files, executables and process memory with compiled YARA rules
 * and yields one Hit per (rule, target). Files are opened through the Host
 * (regular files only, never a FIFO, and under --root never through a symlink
 * out of it) and read whole into memory up to maxFileBytes; identical
 * content (same SHA-256) is scanned once. Processes that share an executable
 * are scanned once and reported together. Memory is live only.
 */
export class YaraScanner {
  constructor(readonly compiled: CompiledRules) {
    for (const g of compiled.groups) g.rules.setMaxMatchesPerPattern(MAX_MATCHES_PER_PATTERN);
  }

  async *scan(host: Host, targets: readonly YaraTarget[], opts: YaraScanOptions = {}): AsyncGenerator<Hit> {
    const problem = opts.onProblem ?? (() => undefined);
    const byHash = new Map<string, RuleHit[]>();
    const exeGroups = new Map<string, { pids: number[]; exe: string | null; sha256: string | null }>();
    for (const t of targets) {
      if (opts.signal?.aborted) return;
      if (t.kind === 'file') {
        const cached = t.sha256 ? byHash.get(t.sha256) : undefined;
        const result = cached ? { hits: cached, truncated: false } : await this.scanFile(host, t.path, t.path, opts, problem);
        if (!result) continue;
        if (t.sha256 && !cached) byHash.set(t.sha256, result.hits);
        for (const h of result.hits) yield hitOf(h, { path: t.path, target: 'file', ...(result.truncated ? { truncated: true } : {}) }, null, t.collector ?? 'temp-files');
      } else if (t.kind === 'exe') {
        const key = t.sha256 ?? `pid:${t.pid}`;
        const g = exeGroups.get(key);
        if (g) g.pids.push(t.pid);
        else exeGroups.set(key, { pids: [t.pid], exe: t.exe, sha256: t.sha256 ?? null });
      } else {
        if (!host.live) {
          problem({ path: `/proc/${t.pid}/mem`, code: 'NOTLIVE', message: 'process memory is scanned on the live host only' });
          continue;
        }
        for (const h of await this.scanMemory(host, t.pid, opts, problem)) yield hitOf(h.hit, { path: t.exe, target: 'memory', ...h.notes }, t.pid, 'processes');
      }
    }
    for (const g of exeGroups.values()) {
      if (opts.signal?.aborted) return;
      if (!host.live) {
        problem({ path: g.exe ?? `/proc/${g.pids[0]}/exe`, code: 'NOTLIVE', message: 'running executables are scanned on the live host only' });
        continue;
      }
      for (const pid of g.pids) {
        const result = await this.scanFile(host, `/proc/${pid}/exe`, g.exe ?? `/proc/${pid}/exe`, opts, problem);
        if (!result) continue;
        for (const h of result.hits) yield hitOf(h, { path: g.exe, target: 'exe', pids: g.pids.slice(0, 100), ...(result.truncated ? { truncated: true } : {}) }, pid, 'processes');
        break;
      }
    }
  }

  private async scanFile(host: Host, open: string, shown: string, opts: YaraScanOptions, problem: (p: YaraProblem) => void): Promise<{ hits: RuleHit[]; truncated: boolean } | null> {
    const max = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    let data: Buffer;
    let truncated: boolean;
    try {
      const file = await host.openFile(open);
      try {
        const size = Math.min(file.facts.size, max);
        data = Buffer.allocUnsafe(size);
        let got = 0;
        while (got < size) {
          const { bytesRead } = await file.fh.read(data, got, size - got, got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        data = data.subarray(0, got);
        truncated = file.facts.size > max;
      } finally {
        await file.fh.close();
      }
    } catch (err) {
      if (err instanceof HostReadError) problem({ path: shown, code: err.code, message: `not scanned: ${err.message}` });
      else problem({ path: shown, code: errnoCode(err) ?? 'EREAD', message: `not scanned: ${errorMessage(err)}` });
      return null;
    }
    const hits = new Map<string, RuleHit>();
    await this.scanBuffer(data, 0, hits);
    return { hits: [...hits.values()], truncated };
  }

  private async scanMemory(host: Host, pid: number, opts: YaraScanOptions, problem: (p: YaraProblem) => void): Promise<{ hit: RuleHit; notes: Record<string, number | boolean> }[]> {
    const notes: MemoryReadNotes = { regions: 0, bytesRead: 0, unreadableRegions: 0, unreadableBytes: 0, capped: false };
    const hits = new Map<string, RuleHit>();
    try {
      for await (const w of processMemory(host, pid, opts.maxProcessBytes ?? DEFAULT_MAX_PROCESS_BYTES, notes, opts.signal)) await this.scanBuffer(w.data, w.address, hits);
    } catch (err) {
      const code = err instanceof HostReadError ? err.code : (errnoCode(err) ?? 'EREAD');
      problem({ path: `/proc/${pid}/mem`, code, message: `memory ${notes.bytesRead > 0 ? 'scanned only in part' : 'not scanned'}: ${errorMessage(err)}` });
    }
    if (notes.capped) problem({ path: `/proc/${pid}/mem`, code: 'CAPPED', message: `memory scanned up to ${notes.bytesRead} bytes only (maxProcessBytes)` });
    const summary = { bytesScanned: notes.bytesRead, regions: notes.regions, ...(notes.unreadableRegions > 0 ? { unreadableRegions: notes.unreadableRegions } : {}) };
    return [...hits.values()].map((hit) => ({ hit, notes: summary }));
  }

  /**
   * Scans one buffer with every rule group; matches are keyed by absolute
   * offset, so overlapping windows count once. The scan is synchronous (the
   * addon's scanAsync cost twice the CPU on small files, bench/yara.ts), so
   * the event loop is let run before each one: time limits and signals act
   * between buffers, each at most maxFileBytes or a 16 MiB window.
   */
  private async scanBuffer(data: Buffer, base: number, into: Map<string, RuleHit>): Promise<void> {
    for (const [i, g] of this.compiled.groups.entries()) {
      await new Promise((resolve) => setImmediate(resolve));
      const matches: YaraXMatch[] = g.rules.scan(data);
      for (const m of matches) {
        const key = `${i}:${m.namespace}:${m.ruleIdentifier}`;
        let h = into.get(key);
        if (!h) {
          h = { rule: m.ruleIdentifier, ruleFile: g.fileOf.get(m.ruleIdentifier) ?? null, tags: m.tags, strings: new Set() };
          into.set(key, h);
        }
        for (const s of m.matches) h.strings.add(`${s.identifier}@0x${(base + s.offset).toString(16)}`);
      }
    }
  }
}

function hitOf(h: RuleHit, where: Record<string, string | number | boolean | number[] | null>, pid: number | null, collector: Source): Hit {
  const strings = [...h.strings];
  return {
    evidence: {
      ...where,
      rule: h.rule,
      ruleFile: h.ruleFile,
      tags: h.tags,
      strings: strings.slice(0, MAX_STRINGS),
      ...(strings.length > MAX_STRINGS ? { moreStrings: strings.length - MAX_STRINGS } : {}),
    },
    pid,
    collector,
  };
}
