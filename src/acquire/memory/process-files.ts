/** What is kept of a process besides its core: the executable, its descriptors and its socket tables. */
import { promises as fsp } from 'node:fs';
import type { CaseWriter } from '../../evidence/case-writer.js';
import { DiskFullError } from '../../evidence/space-guard.js';
import { parseExeLink } from '../../host/proc-pid.js';
import { encodeHostPath } from '../../lib/host-path.js';
import { errnoCode, errorMessage } from '../../lib/user-error.js';
import type { ProcessSidecar } from './sidecar.js';

const COLLECTOR = 'memory';

/** The process's own view of its network namespace: its sockets are among these. */
const NET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'packet'];

/** The socket tables as the process sees them (absent ones left out), as bundle names under its directory. */
export async function netTables(pid: number): Promise<[string, Buffer][]> {
  const out: [string, Buffer][] = [];
  for (const t of NET_TABLES) {
    try {
      out.push([`net/${t}`, await fsp.readFile(`/proc/${pid}/net/${t}`)]);
    } catch {
      // a table this kernel does not have (no IPv6, no packet sockets)
    }
  }
  return out;
}

/** /proc/PID/exe opens the running binary even after it was deleted from disk. */
export async function copyExe(writer: CaseWriter, pid: number, dir: string, files: string[]): Promise<ProcessSidecar['exe']> {
  const linkPath = `/proc/${pid}/exe`;
  let link: Buffer;
  try {
    link = await fsp.readlink(linkPath, { encoding: 'buffer' });
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') writer.recordError({ collector: COLLECTOR, path: linkPath, code: errnoCode(err) ?? 'EREAD', message: errorMessage(err) });
    return null;
  }
  const parsed = parseExeLink(link);
  const text = encodeHostPath(link);
  let fh: fsp.FileHandle | null = null;
  try {
    fh = await fsp.open(linkPath, 'r');
    const st = await fh.stat();
    const a = await writer.addFile(`${dir}/exe`, fh, st.size, {
      source: parsed.path,
      collector: COLLECTOR,
      sourceMtime: st.mtime,
      sourceMode: st.mode,
      sourceUid: st.uid,
      sourceGid: st.gid,
    });
    files.push(a.path);
  } catch (err) {
    if (err instanceof DiskFullError) throw err;
    writer.recordError({ collector: COLLECTOR, path: linkPath, code: errnoCode(err) ?? 'EREAD', message: errorMessage(err) });
  } finally {
    await fh?.close();
  }
  return { link: text.text, ...(text.base64 ? { linkBase64: text.base64 } : {}), deleted: parsed.deletedSuffix };
}

/** Every open descriptor's link (files, pipes, sockets by inode, memfds) as one JSON list. */
export async function keepDescriptors(writer: CaseWriter, pid: number, dir: string, files: string[]): Promise<void> {
  const fdDir = `/proc/${pid}/fd`;
  let names: string[];
  try {
    names = await fsp.readdir(fdDir);
  } catch (err) {
    writer.recordError({ collector: COLLECTOR, path: fdDir, code: errnoCode(err) ?? 'EREAD', message: errorMessage(err) });
    return;
  }
  const fds = [];
  for (const n of names.sort((a, b) => Number(a) - Number(b))) {
    try {
      const link = encodeHostPath(await fsp.readlink(`${fdDir}/${n}`, { encoding: 'buffer' }));
      fds.push({ fd: Number(n), link: link.text, ...(link.base64 ? { linkBase64: link.base64 } : {}) });
    } catch {
      // closed between readdir and readlink
    }
  }
  const a = await writer.addBuffer(`${dir}/fds.json`, Buffer.from(`${JSON.stringify(fds, null, 2)}\n`), { source: fdDir, collector: COLLECTOR });
  files.push(a.path);
}
