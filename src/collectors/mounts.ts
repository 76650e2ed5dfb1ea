import { z } from 'zod';
import { parseFstab, parseMountinfo } from '../host/mountinfo.js';
import { defineCollector } from './collector.js';

const Row = z.object({
  origin: z.enum(['mountinfo', 'fstab']).describe('mountinfo: mounted now (live or saved /proc); fstab: configured in the image'),
  mountPoint: z.string().describe('where it is mounted, as the host sees it'),
  source: z.string().describe('device or pseudo-source (tmpfs, overlay, a block device)'),
  fsType: z.string().describe('filesystem type'),
  options: z.string().describe('per-mount options (ro, nosuid, noexec…)'),
  superOptions: z.string().nullable().describe('per-superblock options (mountinfo only)'),
  root: z.string().nullable().describe('root of the mount within its filesystem; not "/" for bind mounts'),
  mountId: z.number().int().nullable().describe('mount id (mountinfo only); ids are reused after unmounting'),
  parentId: z.number().int().nullable().describe('id of the parent mount; a parent missing from the list is a mount outside this namespace'),
});

export const mountsCollector = defineCollector({
  name: 'mounts',
  title: 'Mounted filesystems',
  description:
    'Every mount of the init process\'s mount namespace (/proc/1/mountinfo), or the fstab of an image. Look for tmpfs or ' +
    'bind mounts over /proc/PID directories (a way to hide a process), noexec missing on /tmp or /dev/shm, and unexpected ' +
    'network or overlay mounts.',
  preconditions: 'Live host or --proc for what is mounted; an image without /proc gives its /etc/fstab instead.',
  timeoutMs: 10_000,
  row: Row,
  async *collect(ctx) {
    const mountinfo = await ctx.readProc('1/mountinfo', { keep: true });
    if (mountinfo) {
      const { mounts, bad } = parseMountinfo(mountinfo.data.toString('utf8'));
      for (const n of bad) ctx.error('/proc/1/mountinfo', 'EPARSE', `line ${n} does not parse`);
      for (const m of mounts) {
        yield {
          origin: 'mountinfo' as const,
          mountPoint: m.mountPoint,
          source: m.source,
          fsType: m.fsType,
          options: m.options,
          superOptions: m.superOptions,
          root: m.root,
          mountId: m.mountId,
          parentId: m.parentId,
        };
      }
      return;
    }
    const fstab = await ctx.read('/etc/fstab');
    if (!fstab) return;
    for (const f of parseFstab(fstab.data.toString('utf8'))) {
      yield { origin: 'fstab' as const, ...f, superOptions: null, root: null, mountId: null, parentId: null };
    }
  },
});
