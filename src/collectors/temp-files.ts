import { z } from 'zod';
import { ContentReadError, examineContent } from '../host/content-kind.js';
import { walk } from '../host/fs-walk.js';
import { HashPool } from '../host/hash-pool.js';
import { readOwners } from '../host/owners.js';
import { defineCollector } from './collector.js';
import { contentColumns, linkColumns, linkFacts, shown, walkedFileColumns, walkedFileFacts } from './walked-file.js';

/** World-writable places where intruders stage tools; /var/lock and /run/shm are usually links to ones listed too (walked once). */
export const TEMP_PLACES = ['/tmp', '/var/tmp', '/dev/shm', '/run/shm', '/run/user', '/run/lock', '/var/lock', '/var/lib/php/sessions', '/var/crash'];

const MAX_HASH_BYTES = 256 * 1024 * 1024;

const Row = z.object({
  place: z.string().describe('the world-writable place this entry was found under (/tmp, /dev/shm, /run/user…)'),
  depth: z.number().int().describe('0 for the place itself, 1 for its direct entries, and so on'),
  ...walkedFileColumns,
  hidden: z.boolean().describe('the name starts with a dot'),
  inHiddenDir: z.boolean().describe('some directory between the place and this entry has a name starting with a dot'),
  ...contentColumns,
  ...linkColumns,
});

export const tempFilesCollector = defineCollector({
  name: 'temp-files',
  title: 'Files in world-writable places',
  description:
    'Every entry under /tmp, /var/tmp, /dev/shm, /run/user/*, /run/lock, /var/lib/php/sessions and /var/crash, walked ' +
    'without following symlinks or opening FIFOs: type, permissions, owner (names from the examined passwd), size and all ' +
    'four timestamps with nanoseconds. Executables and scripts are recognised by their content (ELF header or #! line), ' +
    'not their name, and SHA-256 hashed (look the hashes up). Look for ELF files at all (nothing legitimate compiles into ' +
    '/dev/shm), hidden names and hidden directories, set-uid copies of shells, files owned by service accounts such as ' +
    'www-data, and timestamps with a zero nanosecond fraction (set by touch). Names are kept byte-faithfully (pathBase64 ' +
    'when not UTF-8). Files are opened with O_NOATIME so access times are not changed by looking.',
  preconditions:
    'Any host; root to see every user\'s files. On a dead box /dev/shm, /run and a tmpfs /tmp are gone (they lived in RAM).',
  timeoutMs: 60_000,
  // The walk and the first bytes of each file are read on the walk's thread; the collectors after it need not wait.
  alongside: true,
  row: Row,
  async *collect(ctx) {
    const owners = await readOwners(ctx.host, (e) => ctx.error(e.hostPath, e.code, e.message));
    const pool = HashPool.open();
    try {
      let place = '';
      let placeLen = 0;
      const entries = walk(ctx.host, {
        roots: TEMP_PLACES,
        sniff: true,
        signal: ctx.signal,
        onError: (p, code, message) => ctx.error(shown(p), code, message),
      });
      for await (const e of entries) {
        if (e.depth === 0) {
          place = e.hostPath.toString();
          placeLen = e.hostPath.length;
        }
        if (!e.stat) continue;
        let content = { contentKind: null as 'elf' | 'script' | null, interpreter: null as string | null, sha256: null as string | null };
        // Only ELF files and scripts (judged by the walk from their first bytes) are opened again here, to hash them.
        if (e.type === 'file' && e.head && e.head.length > 0) {
          try {
            const c = await examineContent(e.realPath, e.stat, { pool, maxHashBytes: MAX_HASH_BYTES, hash: (k) => k !== null });
            content = { contentKind: c.kind, interpreter: c.interpreter, sha256: c.sha256 };
            if (c.tooBigToHash) ctx.error(shown(e.hostPath), 'ETOOBIG', `${c.kind} of ${e.stat.size} bytes: larger than ${MAX_HASH_BYTES} bytes, not hashed`);
          } catch (err) {
            if (!(err instanceof ContentReadError)) throw err;
            if (err.code !== 'ENOENT') ctx.error(shown(e.hostPath), err.code, err.message);
          }
        }
        const lastSlash = e.hostPath.lastIndexOf(0x2f);
        const between = e.hostPath.subarray(placeLen, Math.max(placeLen, lastSlash));
        yield {
          place,
          depth: e.depth,
          ...walkedFileFacts(e, owners),
          hidden: e.depth > 0 && e.name[0] === 0x2e,
          inHiddenDir: e.depth > 1 && between.includes('/.'),
          ...content,
          ...linkFacts(e),
        };
      }
    } finally {
      await pool.close();
    }
  },
});
