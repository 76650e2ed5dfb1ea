import { readlinkSync } from 'node:fs';
import { z } from 'zod';
import { bodyfileLine } from '../host/bodyfile.js';
import { modeString, walk } from '../host/fs-walk.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector } from './collector.js';
import { shown } from './walked-file.js';

const Row = z.object({
  line: z.string().describe('the bodyfile line, mactime 3.x format (MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime); control characters, "|", "\\" and invalid UTF-8 in the name written as \\xHH'),
  path: z.string().describe('path on the examined host (%XX for bytes that are not UTF-8)'),
  pathBase64: z.string().nullable().describe('exact path bytes in base64, only when not valid UTF-8'),
  inode: z.string().describe('inode number'),
  mode: z.string().describe('ls-style mode string'),
  uid: z.number().int().describe('owner uid'),
  gid: z.number().int().describe('group gid'),
  size: z.number().describe('size in bytes'),
  atime: z.number().int().describe('access time, seconds since the epoch'),
  mtime: z.number().int().describe('modification time, seconds since the epoch'),
  ctime: z.number().int().describe('inode change time, seconds since the epoch'),
  crtime: z.number().int().describe('birth time, seconds since the epoch; 0 where the filesystem does not record it'),
});

const sec = (ns: bigint) => {
  const s = ns / 1_000_000_000n;
  return Number(ns < 0n && ns % 1_000_000_000n !== 0n ? s - 1n : s);
};

export const bodyfileCollector = defineCollector({
  name: 'bodyfile',
  title: 'Filesystem timeline (bodyfile)',
  description:
    'One bodyfile line per file, directory and link under the paths given with --bodyfile (none by default; / for every ' +
    'local filesystem), for mactime or Timesketch: the four timestamps of every inode, so that "what changed around ' +
    '14:02" can be answered across the whole disk. MD5 is always 0 (hashing every file would take too long). Symlinks ' +
    'are not followed; their target is appended to the name as " -> target", as fls does. Network, FUSE and pseudo ' +
    'filesystems are not walked. Access times are as found: collectors that ran earlier may have updated some.',
  preconditions: 'Any host; root to see every directory. Only runs when --bodyfile names paths.',
  timeoutMs: 30 * 60_000,
  row: Row,
  async *collect(ctx) {
    const roots = ctx.settings.bodyfile;
    if (roots.length === 0) return;
    const entries = walk(ctx.host, {
      roots,
      signal: ctx.signal,
      onError: (p, code, message) => ctx.error(shown(p), code, message),
    });
    for await (const e of entries) {
      const st = e.stat;
      if (!st) continue;
      let name = e.hostPath;
      if (e.type === 'symlink') {
        try {
          name = Buffer.concat([name, Buffer.from(' -> '), readlinkSync(e.realPath, { encoding: 'buffer' })]);
        } catch {
          // vanished or unreadable: the name alone
        }
      }
      const rec = {
        md5: '0',
        name,
        inode: String(st.ino),
        mode: modeString(st.mode),
        uid: st.uid,
        gid: st.gid,
        size: st.size,
        atime: sec(st.atimeNs),
        mtime: sec(st.mtimeNs),
        ctime: sec(st.ctimeNs),
        crtime: st.birthtimeNs === 0n ? 0 : sec(st.birthtimeNs),
      };
      const p = encodeHostPath(e.hostPath);
      const { name: _name, md5: _md5, ...columns } = rec;
      yield { line: bodyfileLine(rec), path: p.text, pathBase64: p.base64 ?? null, ...columns };
    }
  },
});
