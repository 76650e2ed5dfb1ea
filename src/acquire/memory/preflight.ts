import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UserError, errnoCode } from '../../lib/user-error.js';

/**
 * Checks that turn a doomed acquisition into one clear line before anything
 * is written: privileges, kernel lockdown, Yama, a zeroed iomem, free space.
 */
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_SYS_RAWIO = 17;
export const CAP_SYS_PTRACE = 19;

/** The effective capability set from /proc/self/status, or null if it cannot be read. */
export function effectiveCaps(statusText: string): bigint | null {
  const m = /^CapEff:\s*([0-9a-fA-F]{1,32})$/m.exec(statusText);
  return m ? BigInt(`0x${m[1]}`) : null;
}

export function hasCap(caps: bigint | null, cap: number): boolean {
  return caps !== null && ((caps >> BigInt(cap)) & 1n) === 1n;
}

/** The mode in brackets of /sys/kernel/security/lockdown ("none [integrity] confidentiality"). */
export function lockdownMode(text: string): string | null {
  return /\[([a-z]+)\]/.exec(text)?.[1] ?? null;
}

async function readText(p: string): Promise<string | null> {
  try {
    return await fsp.readFile(p, 'latin1');
  } catch {
    return null;
  }
}

async function ownCaps(): Promise<bigint | null> {
  return effectiveCaps((await readText('/proc/self/status')) ?? '');
}

/** Physical memory from the live kernel: root with CAP_SYS_RAWIO, and no lockdown in confidentiality mode. */
export async function checkPhysicalAccess(): Promise<void> {
  if (!hasCap(await ownCaps(), CAP_SYS_RAWIO)) {
    throw new UserError(process.getuid?.() === 0
      ? 'reading physical memory needs CAP_SYS_RAWIO, which this root process lacks (a container or a restricted sudo?)'
      : 'reading physical memory needs root (CAP_SYS_RAWIO): run it with sudo');
  }
  const lockdown = lockdownMode((await readText('/sys/kernel/security/lockdown')) ?? '');
  if (lockdown === 'confidentiality') {
    throw new UserError('kernel lockdown is in confidentiality mode: /proc/kcore and /dev/mem are closed to every process; acquire with a signed LiME module or from the hypervisor');
  }
}

/** Lockdown in integrity mode closes /dev/mem and /dev/crash but leaves /proc/kcore. */
export async function lockdownClosesDevices(): Promise<boolean> {
  const mode = lockdownMode((await readText('/sys/kernel/security/lockdown')) ?? '');
  return mode === 'integrity' || mode === 'confidentiality';
}

/** /proc/PID/mem needs CAP_SYS_PTRACE (and CAP_DAC_READ_SEARCH for other users' /proc files); Yama 3 forbids it to everyone. */
export async function checkProcessAccess(): Promise<void> {
  const yama = (await readText('/proc/sys/kernel/yama/ptrace_scope'))?.trim();
  if (yama === '3') throw new UserError('Yama ptrace_scope is 3 (no attach, not even by root, until reboot): process memory cannot be read on this host');
  const caps = await ownCaps();
  if (!hasCap(caps, CAP_SYS_PTRACE) || !hasCap(caps, CAP_DAC_READ_SEARCH)) {
    throw new UserError(process.getuid?.() === 0
      ? 'reading process memory needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, which this root process lacks'
      : 'reading process memory needs root (CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH): run it with sudo');
  }
}

/** Space for the image plus a margin for the rest of the bundle, where it will be written. */
export async function checkFreeSpace(out: string, bytes: number): Promise<void> {
  const dir = await existingParent(path.resolve(out));
  let free: number;
  try {
    const s = await fsp.statfs(dir);
    free = s.bavail * s.bsize;
  } catch (err) {
    if (errnoCode(err) === 'ENOSYS') return;
    throw err;
  }
  const need = bytes + 64 * 1024 * 1024;
  if (free < need) {
    throw new UserError(`not enough free space at ${dir}: the image needs ${gib(need)} GiB, ${gib(free)} GiB are free; over SSH, stream it off the host instead: ssh HOST sudo goldhour memory --stdout > memory.tar`, 2);
  }
}

async function existingParent(p: string): Promise<string> {
  for (let dir = p; ; dir = path.dirname(dir)) {
    try {
      if ((await fsp.stat(dir)).isDirectory()) return dir;
    } catch {
      // not there yet: its parent holds the bundle
    }
    if (dir === path.dirname(dir)) return dir;
  }
}

function gib(n: number): string {
  return (n / 2 ** 30).toFixed(1);
}
