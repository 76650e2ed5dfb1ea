import { readlinkSync } from 'node:fs';
import { z } from 'zod';
import { birthIso, isoNs, modeString, type WalkEntry } from '../host/fs-walk.js';
import type { Owners } from '../host/owners.js';
import { encodeHostPath } from '../lib/host-path.js';

/**
 * Columns shared by the collectors that walk directory trees (temp-files,
 * suid-files, recent-files), declared once so they read the same everywhere.
 */
export const walkedFileColumns = {
  path: z.string().describe('path on the examined host; bytes that are not UTF-8 appear as %XX (see pathBase64)'),
  pathBase64: z.string().nullable().describe('the exact path bytes in base64, only when the name is not valid UTF-8'),
  type: z.enum(['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block', 'unknown']).describe('file type from lstat (symlinks are never followed)'),
  mode: z.string().describe('permissions as ls shows them, e.g. -rwsr-xr-x (s: set-uid/set-gid, t: sticky)'),
  perm: z.string().describe('permission bits in octal, e.g. 4755'),
  uid: z.number().int().describe('owner uid'),
  gid: z.number().int().describe('group gid'),
  owner: z.string().nullable().describe('owner name from the examined host\'s /etc/passwd; null when the uid has no entry there'),
  group: z.string().nullable().describe('group name from the examined host\'s /etc/group; null when the gid has no entry there'),
  size: z.number().describe('size in bytes'),
  inode: z.string().describe('inode number (a string: it can exceed 2^53)'),
  links: z.number().int().describe('hard link count'),
  mtime: z.string().nullable().describe('content modified, UTC with nanoseconds (a fraction of exactly .000000000 often means the time was set by hand, e.g. touch -d)'),
  ctime: z.string().nullable().describe('inode changed (cannot be set from user space), UTC with nanoseconds'),
  atime: z.string().nullable().describe('last accessed as recorded before goldhour looked (relatime: updated at most daily), UTC with nanoseconds'),
  birthtime: z.string().nullable().describe('created (statx btime), UTC with nanoseconds; null where the filesystem does not record it'),
};

export const contentColumns = {
  contentKind: z.enum(['elf', 'script']).nullable().describe('judged by the first bytes, not the name: elf (\\x7fELF) or script (#! line); null for anything else or unread'),
  interpreter: z.string().nullable().describe('the #! line of a script, without "#!" (attacker-controlled text)'),
  sha256: z.string().nullable().describe('SHA-256 of the whole file; null when not hashed (see the description), too big or unreadable'),
};

export const linkColumns = {
  linkTarget: z.string().nullable().describe('for a symlink: where it points (not followed), %XX for bytes that are not UTF-8'),
  linkTargetBase64: z.string().nullable().describe('the exact link target bytes in base64, only when not valid UTF-8'),
};

export function walkedFileFacts(e: WalkEntry, owners: Owners) {
  const st = e.stat!;
  const p = encodeHostPath(e.hostPath);
  const mode = st.mode;
  return {
    path: p.text,
    pathBase64: p.base64 ?? null,
    type: e.type,
    mode: modeString(mode),
    perm: (mode & 0o7777).toString(8).padStart(4, '0'),
    uid: st.uid,
    gid: st.gid,
    owner: owners.user(st.uid),
    group: owners.group(st.gid),
    size: st.size,
    inode: String(st.ino),
    links: st.nlink,
    mtime: isoNs(st.mtimeNs),
    ctime: isoNs(st.ctimeNs),
    atime: isoNs(st.atimeNs),
    birthtime: birthIso(st.birthtimeNs),
  };
}

export function linkFacts(e: WalkEntry): { linkTarget: string | null; linkTargetBase64: string | null } {
  if (e.type !== 'symlink') return { linkTarget: null, linkTargetBase64: null };
  try {
    const t = encodeHostPath(readlinkSync(e.realPath, { encoding: 'buffer' }));
    return { linkTarget: t.text, linkTargetBase64: t.base64 ?? null };
  } catch {
    return { linkTarget: null, linkTargetBase64: null };
  }
}

/** Host path as text, for error records. */
export function shown(p: Buffer): string {
  return encodeHostPath(p).text;
}
