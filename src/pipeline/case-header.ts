import * as facts from '../host/facts.js';
import type { Host } from '../host/host.js';
import type { CaseHeader } from '../evidence/case-writer.js';
import { toolIdentity } from '../evidence/tool-identity.js';

export interface CaseOptions {
  caseId: string | undefined;
  examiner: string | undefined;
  commandLine: string[];
  version: string;
  codeRoot: string;
}

/** Everything the manifest says about the case, the host and the clock, read before collection starts. */
export async function buildCaseHeader(host: Host, opts: CaseOptions): Promise<CaseHeader> {
  const now = new Date();
  const r = new facts.FactReader(host);
  const hostname = await facts.hostname(r);
  const boot = await facts.bootTime(r);
  const ntp = await facts.ntpSynchronized(host);
  return {
    case: { id: opts.caseId ?? defaultCaseId(hostname, now), examiner: opts.examiner ?? null },
    host: {
      hostname,
      machineId: await facts.machineId(r),
      bootId: await facts.bootId(r),
      kernel: await facts.kernel(r),
      addresses: facts.liveAddresses(host),
      root: host.root,
      proc: host.procRoot,
      live: host.live,
    },
    tool: await toolIdentity(opts.version, opts.codeRoot),
    commandLine: opts.commandLine,
    clock: {
      utcAtStart: now.toISOString(),
      timezone: await facts.timezone(r),
      utcOffsetMinutes: -now.getTimezoneOffset(),
      uptimeSeconds: await facts.uptimeSeconds(r),
      bootTime: boot?.toISOString() ?? null,
      ntpSynchronized: ntp.synced,
      ntpSource: ntp.source,
    },
  };
}

export function defaultCaseId(hostname: string | null, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const name = (hostname ?? 'host').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return `${name}-${stamp}`;
}
