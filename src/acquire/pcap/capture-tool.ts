import { TRUSTED_DIRS, execProgram, locateProgram, programSha256 } from '../../pipeline/external-tool.js';
import type { ExternalTool } from '../../evidence/manifest.js';
import type { ToolName } from './tool-stats.js';

export type { ToolName };

export interface CaptureTool {
  name: ToolName;
  path: string;
  sha256: string | null;
}

export interface CaptureSpec {
  iface: string;
  filter: string | null;
  snaplen: number;
}

const PACKAGES: Record<ToolName, string> = {
  tcpdump: 'tcpdump (Debian/Ubuntu: apt install tcpdump; RHEL/Fedora: dnf install tcpdump)',
  dumpcap: 'dumpcap (Debian/Ubuntu: apt install wireshark-common; RHEL/Fedora: dnf install wireshark-cli)',
};

/** The one line a responder sees on a host without the tool: where goldhour looked and which package brings it. */
export function missingToolMessage(wanted: ToolName | null): string {
  if (wanted) return `${wanted} is not in ${TRUSTED_DIRS.join(', ')}; install ${PACKAGES[wanted]}`;
  return `no capture tool: neither tcpdump nor dumpcap is in ${TRUSTED_DIRS.join(', ')}; install ${PACKAGES.tcpdump}, or ${PACKAGES.dumpcap}`;
}

/** tcpdump first (on more servers, and the seeds' model); dumpcap when it is the only one or asked for. */
export async function findCaptureTool(wanted: ToolName | null): Promise<CaptureTool | null> {
  for (const name of wanted ? [wanted] : (['tcpdump', 'dumpcap'] as const)) {
    const p = await locateProgram(name);
    if (p) return { name, path: p, sha256: await programSha256(p) };
  }
  return null;
}

/**
 * Raw pcap records on stdout, flushed after every packet, so goldhour sees
 * each packet as it is captured and cuts files itself. tcpdump's `-Z root`
 * keeps it from switching to its own user: a change of user clears the
 * parent-death signal that setpriv gave it (measured), and with `-w` it
 * dissects nothing, so root costs little.
 */
export function captureArgs(tool: ToolName, spec: CaptureSpec): string[] {
  if (tool === 'tcpdump') {
    return ['-i', spec.iface, '-n', '-U', '-w', '-', '-s', String(spec.snaplen), '-Z', 'root', '--', ...(spec.filter === null ? [] : [spec.filter])];
  }
  return ['-i', spec.iface, '-P', '-w', '-', '-s', String(spec.snaplen), '-q', ...(spec.filter === null ? [] : ['-f', spec.filter])];
}

/** Compiles the filter on the interface and exits: a bad interface, filter or privilege is told before any bundle exists. */
function checkArgs(tool: ToolName, spec: CaptureSpec): string[] {
  if (tool === 'tcpdump') return ['-i', spec.iface, '-d', '-s', String(spec.snaplen), '--', ...(spec.filter === null ? [] : [spec.filter])];
  return ['-i', spec.iface, '-d', '-s', String(spec.snaplen), ...(spec.filter === null ? [] : ['-f', spec.filter])];
}

export interface Preflight {
  /** The reason the tool cannot capture, in its own words; null when it can. */
  problem: string | null;
  record: ExternalTool;
}

/** dumpcap -d exits 0 even when it fails, so success is judged by the BPF program it prints. */
export async function preflight(tool: CaptureTool, spec: CaptureSpec, signal: AbortSignal): Promise<Preflight> {
  const args = checkArgs(tool.name, spec);
  const r = await execProgram(tool.path, args, { timeoutMs: 30_000, maxBytes: 4 * 1024 * 1024, signal });
  const record: ExternalTool = { path: tool.path, sha256: tool.sha256, args, purpose: 'pcap: check interface, filter and privileges', exitCode: r.exitCode };
  const ok = r.exitCode === 0 && /^\(000\) /m.test(r.stdout.toString('latin1'));
  if (ok) return { problem: null, record };
  const lines = r.stderr.toString('utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const said = lines.find((l) => l.startsWith(`${tool.name}:`)) ?? lines.at(-1) ?? (r.timedOut ? 'timed out' : `exit code ${r.exitCode}`);
  return { problem: said.replace(new RegExp(`^${tool.name}: `), ''), record };
}

export interface DeathLink {
  /** The program and arguments that start the tool so that it dies with goldhour. */
  prefix: string[];
  record: ExternalTool | null;
}

/**
 * `setpriv --pdeathsig KILL` (util-linux 2.33+) makes the kernel kill the tool
 * when goldhour dies, even by SIGKILL. Where it is missing or too old, the tool
 * still dies at its next write into the closed pipe, but an idle link keeps it
 * alive: the caller records that.
 */
export async function deathLink(signal: AbortSignal): Promise<DeathLink> {
  const setpriv = await locateProgram('setpriv');
  if (!setpriv) return { prefix: [], record: null };
  const probe = ['--pdeathsig', 'KILL', '--', setpriv, '--version'];
  const r = await execProgram(setpriv, probe, { timeoutMs: 10_000, maxBytes: 65536, signal });
  const record: ExternalTool = { path: setpriv, sha256: await programSha256(setpriv), args: probe, purpose: 'pcap: check that setpriv can tie the capture tool to goldhour', exitCode: r.exitCode };
  return { prefix: r.exitCode === 0 ? [setpriv, '--pdeathsig', 'KILL', '--'] : [], record };
}
