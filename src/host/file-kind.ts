import { promises as fsp, type Stats } from 'node:fs';
import { HostReadError, type Host } from './host.js';

export type FileKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device' | 'missing' | 'unknown';

export function kindOfStats(st: Stats): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'unknown';
}

export interface PathKind {
  /** What the path itself is (not followed). */
  kind: FileKind;
  /** Where a symlink points, as written in the link. */
  linkTarget: string | null;
  /** What the path is after following links (inside the examined root); equal to kind for a non-link. */
  targetKind: FileKind;
  /** lstat of the path itself, when it exists. */
  stats: Stats | null;
}

/**
 * What a path is, without opening it: a history or log file replaced by a
 * symlink to /dev/null, a FIFO or a directory is itself the fact. Failures
 * other than absence are thrown as HostReadError for the caller to record.
 */
export async function pathKind(host: Host, hostPath: string): Promise<PathKind> {
  let st: Stats;
  try {
    st = await host.lstat(hostPath);
  } catch (err) {
    if (err instanceof HostReadError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return { kind: 'missing', linkTarget: null, targetKind: 'missing', stats: null };
    throw err;
  }
  const kind = kindOfStats(st);
  if (kind !== 'symlink') return { kind, linkTarget: null, targetKind: kind, stats: st };
  const linkTarget = await host.readlink(hostPath).catch(() => null);
  let targetKind: FileKind = 'unknown';
  try {
    // resolved inside the root under --root (every link already followed there); followed by stat on the live host
    targetKind = kindOfStats(await fsp.stat(await host.resolve(hostPath)));
  } catch (err) {
    const code = (err as { code?: string }).code;
    targetKind = code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unknown';
  }
  return { kind, linkTarget, targetKind, stats: st };
}
