import os from 'node:os';
import { HostReadError, type Host, type ReadResult } from './host.js';

/**
 * Small facts about the examined system, each read from a file (never from a
 * command). A FactReader remembers every file it read and every failure, so the
 * system collector can keep raw copies and the manifest can record the errors.
 */
export class FactReader {
  readonly reads: ReadResult[] = [];
  readonly failures: HostReadError[] = [];

  constructor(readonly host: Host) {}

  async file(hostPath: string): Promise<string | null> {
    return this.track(() => this.host.readFile(hostPath, { maxBytes: 1024 * 1024 }));
  }

  async proc(rel: string): Promise<string | null> {
    if (this.host.procRoot === null) return null;
    return this.track(() => this.host.readProc(rel, { maxBytes: 16 * 1024 * 1024 }));
  }

  private async track(read: () => Promise<ReadResult>): Promise<string | null> {
    try {
      const r = await read();
      this.reads.push(r);
      return r.data.toString('utf8');
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      if (err.code !== 'ENOENT') this.failures.push(err);
      return null;
    }
  }
}

export function firstLine(text: string | null): string | null {
  if (text === null) return null;
  const line = text.split('\n')[0]!.trim();
  return line === '' ? null : line;
}

export async function hostname(r: FactReader): Promise<string | null> {
  return firstLine(await r.proc('sys/kernel/hostname')) ?? firstLine(await r.file('/etc/hostname'));
}

export async function machineId(r: FactReader): Promise<string | null> {
  return firstLine(await r.file('/etc/machine-id'));
}

export async function bootId(r: FactReader): Promise<string | null> {
  return firstLine(await r.proc('sys/kernel/random/boot_id'));
}

export async function kernel(r: FactReader): Promise<{ release: string | null; version: string | null }> {
  return { release: firstLine(await r.proc('sys/kernel/osrelease')), version: firstLine(await r.proc('sys/kernel/version')) };
}

export async function uptimeSeconds(r: FactReader): Promise<number | null> {
  const first = firstLine(await r.proc('uptime'))?.split(/\s+/)[0];
  const n = first === undefined ? NaN : Number(first);
  return Number.isFinite(n) ? n : null;
}

export async function bootTime(r: FactReader): Promise<Date | null> {
  const stat = await r.proc('stat');
  const m = stat?.match(/^btime (\d+)$/m);
  return m ? new Date(Number(m[1]) * 1000) : null;
}

/** The host's configured zone: /etc/timezone, else where /etc/localtime points. */
export async function timezone(r: FactReader): Promise<string | null> {
  const tz = firstLine(await r.file('/etc/timezone'));
  if (tz) return tz;
  try {
    const target = await r.host.readlink('/etc/localtime');
    const m = target.match(/zoneinfo\/(.+)$/);
    return m ? m[1]! : target;
  } catch {
    return null;
  }
}

/**
 * systemd-timesyncd touches /run/systemd/timesync/synchronized once the clock is
 * synchronised; without it (chrony, ntpd, none) the state can't be read from a
 * file, and null says so rather than guessing.
 */
export async function ntpSynchronized(host: Host): Promise<{ synced: boolean | null; source: string | null }> {
  if (!host.live) return { synced: null, source: null };
  try {
    await host.lstat('/run/systemd/timesync/synchronized');
    return { synced: true, source: '/run/systemd/timesync/synchronized present' };
  } catch {
    return { synced: null, source: 'no systemd-timesyncd marker; state unknown' };
  }
}

export interface OsRelease {
  id: string | null;
  versionId: string | null;
  prettyName: string | null;
}

/** os-release is shell-like KEY=value with optional quotes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = raw.match(/^\s*([A-Z0-9_]+)=(.*)$/);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) {
      v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]!] = v;
  }
  return out;
}

export async function osRelease(r: FactReader): Promise<OsRelease> {
  const text = (await r.file('/etc/os-release')) ?? (await r.file('/usr/lib/os-release'));
  const kv = text === null ? {} : parseOsRelease(text);
  return { id: kv.ID ?? null, versionId: kv.VERSION_ID ?? null, prettyName: kv.PRETTY_NAME ?? null };
}

/** Interface addresses come from getifaddrs (a syscall, not a program); a dead box has none to give. */
export function liveAddresses(host: Host): { iface: string; address: string; family: string }[] {
  if (!host.live) return [];
  return Object.entries(os.networkInterfaces()).flatMap(([iface, addrs]) =>
    (addrs ?? []).map((a) => ({ iface, address: a.address, family: a.family })),
  );
}
