import os from 'node:os';
import { z } from 'zod';
import * as facts from '../host/facts.js';
import { defineCollector } from './collector.js';

const Row = z.object({
  hostname: z.string().nullable().describe('kernel hostname (/proc/sys/kernel/hostname), else /etc/hostname'),
  machineId: z.string().nullable().describe('/etc/machine-id: stable identity of the installation'),
  bootId: z.string().nullable().describe('random id of the current boot; changes on every reboot'),
  osId: z.string().nullable().describe('ID from os-release (debian, ubuntu, rhel…)'),
  osVersionId: z.string().nullable().describe('VERSION_ID from os-release'),
  osPrettyName: z.string().nullable().describe('PRETTY_NAME from os-release'),
  kernelRelease: z.string().nullable().describe('running kernel release (uname -r)'),
  kernelVersion: z.string().nullable().describe('running kernel build string (uname -v)'),
  arch: z.string().nullable().describe('machine architecture of the live host'),
  uptimeSeconds: z.number().nullable().describe('seconds since boot, from /proc/uptime'),
  bootTime: z.string().nullable().describe('UTC boot time, from btime in /proc/stat'),
  timezone: z.string().nullable().describe('configured zone: /etc/timezone or the /etc/localtime link'),
  ntpSynchronized: z.boolean().nullable().describe('clock synchronised by systemd-timesyncd; null when it cannot be read'),
  collectedAt: z.string().describe('UTC time these facts were read'),
});

export const systemCollector = defineCollector({
  name: 'system',
  title: 'System identity',
  description:
    'Who and what the host is: hostname, machine and boot ids, OS release, running kernel, uptime, boot time and time zone. ' +
    'Compare the boot id and boot time with the incident window: a reboot after the intrusion erased volatile evidence. ' +
    'Raw copies of every file read are kept.',
  preconditions: 'Any host. Kernel, uptime and boot facts need /proc: live, or --proc DIR with a saved one.',
  timeoutMs: 10_000,
  row: Row,
  async *collect(ctx) {
    const r = new facts.FactReader(ctx.host);
    const release = await facts.osRelease(r);
    const kern = await facts.kernel(r);
    const boot = await facts.bootTime(r);
    const row = {
      hostname: await facts.hostname(r),
      machineId: await facts.machineId(r),
      bootId: await facts.bootId(r),
      osId: release.id,
      osVersionId: release.versionId,
      osPrettyName: release.prettyName,
      kernelRelease: kern.release,
      kernelVersion: kern.version,
      arch: ctx.host.live ? os.machine() : null,
      uptimeSeconds: await facts.uptimeSeconds(r),
      bootTime: boot?.toISOString() ?? null,
      timezone: await facts.timezone(r),
      ntpSynchronized: (await facts.ntpSynchronized(ctx.host)).synced,
      collectedAt: new Date().toISOString(),
    };
    for (const read of r.reads) await ctx.keepCopy(read);
    for (const f of r.failures) ctx.error(f.hostPath, f.code, f.message);
    yield row;
  },
});
