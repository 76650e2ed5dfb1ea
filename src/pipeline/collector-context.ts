import type { CollectorContext, CollectorSettings, ReadOptions, ToolOptions, ToolRun } from '../collectors/collector.js';
import type { CaseWriter } from '../evidence/case-writer.js';
import { DiskFullError } from '../evidence/space-guard.js';
import { HostReadError, type Host, type ReadResult } from '../host/host.js';
import { commandOutputStem } from '../lib/command-output.js';
import { bundlePathForHostFile } from '../lib/host-path.js';
import { errnoCode, errorMessage } from '../lib/user-error.js';
import { execProgram, locateProgram, programSha256 } from './external-tool.js';

export interface ContextStats {
  artifacts: number;
  errors: number;
}

/** Told the output of each external program a collector runs, after it is in the bundle (see Detector.toolOutput). */
export type ToolOutputObserver = (commandLine: string, stdout: Buffer) => void;

/**
 * Builds the context one collector runs with. Once `close()` is called (the
 * collector finished or ran out of time) anything it still tries is dropped,
 * so a hung collector that wakes up late cannot write into a sealed bundle.
 */
export function collectorContext(host: Host, settings: CollectorSettings, writer: CaseWriter, name: string, signal: AbortSignal, onToolOutput?: ToolOutputObserver) {
  let open = true;
  const stats: ContextStats = { artifacts: 0, errors: 0 };
  const commandNames = new Map<string, number>();

  const error = (path: string | null, code: string, message: string) => {
    if (!open) return;
    stats.errors++;
    writer.recordError({ collector: name, path, code, message });
  };

  const keepCopy = async (read: ReadResult) => {
    if (!open) return;
    await writer.addBuffer(bundlePathForHostFile(read.hostPath), read.data, {
      // the raw bytes, so the manifest keeps a name that is not UTF-8 exactly (sourceBase64)
      source: read.rawHostPath ?? read.hostPath,
      collector: name,
      sourceMtime: read.facts.mtime,
      sourceMode: read.facts.mode,
      sourceUid: read.facts.uid,
      sourceGid: read.facts.gid,
      ...(read.truncated ? { truncatedAt: read.data.length, sourceSize: read.facts.size } : {}),
      changedWhileRead: read.changedWhileRead,
    });
    stats.artifacts++;
  };

  const guarded = async (fn: () => Promise<ReadResult>, keep: boolean): Promise<ReadResult | null> => {
    try {
      const r = await fn();
      if (keep) await keepCopy(r);
      return r;
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      if (err.code !== 'ENOENT' && err.code !== 'NOPROC') error(err.hostPath, err.code, err.message);
      return null;
    }
  };

  const ctx: CollectorContext = {
    host,
    settings,
    signal,
    error,
    keepCopy,
    read: (hostPath: string, opts: ReadOptions = {}) => guarded(() => host.readFile(hostPath, { ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) }), opts.keep ?? true),
    readProc: (rel: string, opts: ReadOptions = {}) => guarded(() => host.readProc(rel, { ...(opts.maxBytes ? { maxBytes: opts.maxBytes } : {}) }), opts.keep ?? false),
    copyFile: async (hostPath: string, opts: { maxBytes: number }) => {
      if (!open) return false;
      let file;
      try {
        file = await host.openFile(hostPath);
      } catch (err) {
        if (!(err instanceof HostReadError)) throw err;
        if (err.code !== 'ENOENT') error(err.hostPath, err.code, err.message);
        return false;
      }
      try {
        const size = Math.min(file.facts.size, opts.maxBytes);
        await writer.addFile(bundlePathForHostFile(hostPath), file.fh, size, {
          source: hostPath,
          collector: name,
          sourceMtime: file.facts.mtime,
          sourceMode: file.facts.mode,
          sourceUid: file.facts.uid,
          sourceGid: file.facts.gid,
          ...(file.facts.size > opts.maxBytes ? { truncatedAt: size, sourceSize: file.facts.size } : {}),
          changedWhileRead: file.changedSinceOpen,
        });
        stats.artifacts++;
        return true;
      } catch (err) {
        if (err instanceof DiskFullError) throw err;
        error(hostPath, errnoCode(err) ?? 'EREAD', errorMessage(err));
        return false;
      } finally {
        await file.fh.close();
      }
    },
    runTool: async (program: string, args: string[], opts: ToolOptions): Promise<ToolRun | null> => {
      if (!open || !host.live) return null;
      const p = await locateProgram(program);
      if (!p) return null;
      const sha256 = await programSha256(p);
      const r = await execProgram(p, args, { timeoutMs: opts.timeoutMs ?? 20_000, maxBytes: opts.maxBytes ?? 64 * 1024 * 1024, signal });
      writer.recordTool({ path: p, sha256, args, purpose: opts.purpose, exitCode: r.exitCode });
      const commandLine = [program, ...args].join(' ');
      const base = commandOutputStem(commandLine);
      const n = (commandNames.get(base) ?? 0) + 1;
      commandNames.set(base, n);
      const stem = `commands/${name}/${base}${n > 1 ? `~${n}` : ''}`;
      if (!open) return null;
      await writer.addBuffer(`${stem}.stdout`, r.stdout, { source: null, collector: name });
      stats.artifacts++;
      if (r.stderr.length > 0) {
        await writer.addBuffer(`${stem}.stderr`, r.stderr, { source: null, collector: name });
        stats.artifacts++;
      }
      if (r.timedOut) error(p, 'TIMEOUT', `${program} did not finish in time; its output so far is kept`);
      onToolOutput?.(commandLine, r.stdout);
      return { path: p, ...r };
    },
  };
  return { ctx, stats, close: () => (open = false) };
}
