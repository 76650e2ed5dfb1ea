import type { Tagged } from '../rows.js';
import type { YaraTarget } from './scanner.js';

/**
 * What --yara scans, read from the rows as they pass: every regular file in
 * the temp places (temp-files), every running process's executable, and the
 * memory of the processes named with --pid. Kernel threads and zombies have
 * no executable and are skipped.
 */
export function yaraTargets(t: Tagged, memoryPids: ReadonlySet<number>): YaraTarget[] {
  if (t.source === 'temp-files') return t.row.type === 'file' ? [{ kind: 'file', path: t.row.path, sha256: t.row.sha256, collector: 'temp-files' }] : [];
  if (t.source !== 'processes') return [];
  const p = t.row;
  const out: YaraTarget[] = [];
  if (p.exe !== null && p.kernelThread !== true) out.push({ kind: 'exe', pid: p.pid, exe: p.exe, sha256: p.exeSha256 });
  if (memoryPids.has(p.pid)) out.push({ kind: 'memory', pid: p.pid, exe: p.exe });
  return out;
}
