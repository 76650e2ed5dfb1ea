import os from 'node:os';
import path from 'node:path';
import { bundleFailure } from '../../evidence/bundle-failure.js';
import { CaseWriter, type BundleTarget, type SealResult } from '../../evidence/case-writer.js';
import type { ExternalTool } from '../../evidence/manifest.js';
import { Host } from '../../host/host.js';
import { logErr, termSafe } from '../../lib/terminal.js';
import { UserError, errnoCode, errorMessage } from '../../lib/user-error.js';
import { buildCaseHeader, type CaseOptions } from '../../pipeline/case-header.js';
import { CaptureFiles } from './capture-files.js';
import type { StopLadder } from './capture-process.js';
import { CaptureSession, HEADER_TIMEOUT_MS, type SessionEnd } from './capture-session.js';
import { captureArgs, deathLink, findCaptureTool, missingToolMessage, preflight, type CaptureSpec, type CaptureTool, type DeathLink, type ToolName } from './capture-tool.js';
import { PCAP_SIDECAR_SCHEMA, type PcapSidecar } from './sidecar.js';
import { Staging } from './staging.js';
import { parseToolStats } from './tool-stats.js';

export const PCAP_DIR = 'acquired/pcap';
const SIDECAR = `${PCAP_DIR}/capture.json`;

export interface PcapOptions extends CaseOptions {
  target: Omit<BundleTarget, 'out'> & { out: string | null | undefined };
  spec: CaptureSpec;
  tool: ToolName | null;
  durationMs: number | null;
  rotateMs: number | null;
  maxFileBytes: number | null;
  ringFiles: number | null;
  /** Parent directory of the private staging directory. */
  stagingParent: string | undefined;
  /** How the tool is stopped: see StopLadder. */
  ladder: StopLadder;
  quiet: boolean;
  /** Called once the tool's pcap header has arrived, i.e. the capture is running. */
  onCapturing?: (info: CapturingInfo) => void | Promise<void>;
}

export interface CapturingInfo {
  location: string;
  caseId: string;
  toolPid: number | null;
}

export interface PcapResult extends SealResult {
  /** The signal that cut the capture short (a planned stop is not an interruption). */
  interruptedBy: string | null;
  sidecar: PcapSidecar;
}

const EXTENSION: Record<string, string> = { dir: '', tar: '.tar', tgz: '.tar.gz', zip: '.zip' };

/**
 * One packet capture into a case bundle: the tool runs under goldhour's timer,
 * its stream is split into files goldhour rotates itself, and every file, the
 * sidecar and the custody events go through the case writer.
 */
export async function capturePackets(opts: PcapOptions): Promise<PcapResult> {
  const setup = new AbortController();
  const tool = await findCaptureTool(opts.tool);
  if (!tool) throw new UserError(missingToolMessage(opts.tool));
  const check = await preflight(tool, opts.spec, setup.signal);
  if (check.problem) throw new UserError(`${tool.name} cannot capture on ${opts.spec.iface}: ${check.problem}`);
  const link = await deathLink(setup.signal);

  const host = await Host.open({});
  const header = await buildCaseHeader(host, opts);
  const out = opts.target.out === undefined ? `goldhour-pcap-${header.case.id}${EXTENSION[opts.target.format]}` : opts.target.out;
  const stagingParent = opts.stagingParent ?? (out === null ? os.tmpdir() : path.dirname(path.resolve(out)));
  let staging: Staging;
  try {
    staging = await Staging.create(stagingParent);
  } catch (err) {
    throw new UserError(`cannot make a staging directory in ${stagingParent}: ${errnoCode(err) ?? errorMessage(err)}`);
  }
  let writer: CaseWriter;
  try {
    writer = await CaseWriter.open({ ...opts.target, out }, header);
  } catch (err) {
    await staging.removeIfEmpty();
    throw err;
  }
  try {
    return await capture(opts, { tool, link, writer, staging, caseId: header.case.id, preflightRecord: check.record });
  } catch (err) {
    throw bundleFailure(err);
  }
}

interface Prepared {
  tool: CaptureTool;
  link: DeathLink;
  writer: CaseWriter;
  staging: Staging;
  caseId: string;
  preflightRecord: ExternalTool;
}

async function capture(opts: PcapOptions, p: Prepared): Promise<PcapResult> {
  const { tool, link, writer, staging } = p;
  const log = (line: string) => {
    if (!opts.quiet) logErr(line);
  };
  writer.recordTool(p.preflightRecord);
  if (link.record) writer.recordTool(link.record);
  const argv = [...link.prefix, tool.path, ...captureArgs(tool.name, opts.spec)];
  const diesWithGoldhour = link.prefix.length > 0 ? 'setpriv-pdeathsig' : 'pipe-only';
  if (diesWithGoldhour === 'pipe-only') log('goldhour pcap: setpriv --pdeathsig is not available: if goldhour is killed, the capture tool ends only at its next packet');
  await writer.appendCustody({ event: 'pcap-started', tool: tool.path, toolSha256: tool.sha256, argv, iface: opts.spec.iface, filter: opts.spec.filter, snaplen: opts.spec.snaplen, staging: staging.dir, diesWithGoldhour });

  const started = new Date();
  let session: CaptureSession | null = null;
  const files = new CaptureFiles(writer, staging, { bundleDir: PCAP_DIR, baseName: 'capture', maxFileBytes: opts.maxFileBytes, ringFiles: opts.ringFiles }, () => {
    session!.capturing();
    const pid = session!.proc.pid ?? null;
    log(`goldhour pcap: capturing on ${termSafe(opts.spec.iface)} with ${tool.name} (pid ${pid ?? '?'}) → ${termSafe(writer.location)}`);
    void Promise.resolve(opts.onCapturing?.({ location: writer.location, caseId: p.caseId, toolPid: pid })).catch((err: unknown) => {
      log(`goldhour pcap: ${termSafe(errorMessage(err))}`);
    });
  });
  session = new CaptureSession(argv, files, writer, { durationMs: opts.durationMs, rotateMs: opts.rotateMs, ladder: opts.ladder, quiet: opts.quiet }, log);
  const ran = await session.run();
  await files.finish();
  const ended = new Date();

  const stderr = session.proc.stderr();
  writer.recordTool({ path: tool.path, sha256: tool.sha256, args: argv.slice(link.prefix.length + 1), purpose: 'pcap: packet capture', exitCode: ran.end.exitCode });
  const sidecar = describeCapture({ opts, tool, argv, pid: session.proc.pid ?? null, diesWithGoldhour, files, ran, started, ended, stderr, signalsSent: session.proc.signalsSent });
  await writer.addBuffer(SIDECAR, Buffer.from(`${JSON.stringify(sidecar, null, 2)}\n`), { source: null, collector: 'pcap' });
  const t = sidecar.totals;
  await writer.appendCustody({ event: 'pcap-stopped', reason: ran.reason, signal: ran.signal, signalsSent: sidecar.stop.signalsSent, exitCode: ran.end.exitCode, stats: sidecar.stats, packets: t.packets, files: t.files, inBundle: t.inBundle });

  const planned = ran.reason === 'duration' || ran.reason === 'stop-request' || (ran.reason === 'signal' && ran.signal === 'SIGINT' && opts.durationMs === null);
  const interruptedBy = ran.reason === 'signal' && !planned ? ran.signal : null;
  const reason = partialReason({ ran, planned, toolName: tool.name, stderr, ended, files, notWritten: t.files - t.inBundle - t.droppedByRing });
  if (reason) await writer.appendCustody({ event: 'interrupted', reason });
  const sealed = await writer.seal({ status: reason ? 'partial' : 'complete', reason, findings: '', signer: null });
  const left = await staging.removeIfEmpty();
  if (left.length > 0) log(`goldhour pcap: ${left.length} file(s) could not be moved into the bundle and are still in ${termSafe(staging.dir)}`);
  return { ...sealed, interruptedBy, sidecar };
}

interface CaptureFacts {
  opts: PcapOptions;
  tool: CaptureTool;
  argv: string[];
  pid: number | null;
  diesWithGoldhour: PcapSidecar['tool']['diesWithGoldhour'];
  files: CaptureFiles;
  ran: SessionEnd;
  started: Date;
  ended: Date;
  stderr: string;
  signalsSent: string[];
}

function describeCapture(f: CaptureFacts): PcapSidecar {
  const { opts, files, ran } = f;
  const h = files.header;
  const inBundle = files.entries.filter((e) => e.status === 'in-bundle').length;
  return {
    schema: PCAP_SIDECAR_SCHEMA,
    tool: { name: f.tool.name, path: f.tool.path, sha256: f.tool.sha256, argv: f.argv, pid: f.pid, diesWithGoldhour: f.diesWithGoldhour },
    iface: opts.spec.iface,
    filter: opts.spec.filter,
    snaplen: opts.spec.snaplen,
    stream: h
      ? {
          linktype: h.linktype,
          snaplen: h.snaplen,
          timestamps: h.nanoseconds ? 'nanoseconds' : 'microseconds',
          byteOrder: h.littleEndian ? 'little-endian' : 'big-endian',
          version: `${h.versionMajor}.${h.versionMinor}`,
        }
      : null,
    started: f.started.toISOString(),
    capturing: ran.capturingAt === null ? null : new Date(ran.capturingAt).toISOString(),
    ended: f.ended.toISOString(),
    plan: {
      durationSeconds: opts.durationMs === null ? null : opts.durationMs / 1000,
      rotateSeconds: opts.rotateMs === null ? null : opts.rotateMs / 1000,
      maxFileBytes: opts.maxFileBytes,
      ringFiles: opts.ringFiles,
    },
    stop: {
      reason: ran.reason,
      requested: ran.requested?.toISOString() ?? null,
      drainMs: opts.ladder.drainMs,
      signal: ran.signal,
      signalsSent: f.signalsSent,
      exitCode: ran.end.exitCode,
      exitSignal: ran.end.signal,
    },
    stats: parseToolStats(f.tool.name, f.stderr),
    toolStderr: f.stderr,
    totals: {
      packets: files.packets,
      bytes: files.bytes,
      files: files.entries.length,
      inBundle,
      droppedByRing: files.entries.filter((e) => e.status === 'dropped-by-ring').length,
    },
    unparsed: files.unparsedInfo(),
    files: files.entries,
  };
}

interface ReasonFacts {
  ran: SessionEnd;
  planned: boolean;
  toolName: string;
  stderr: string;
  ended: Date;
  files: CaptureFiles;
  notWritten: number;
}

/** Why the bundle is partial, or null: a capture that ran as planned with every file whole and in the bundle is complete. */
function partialReason(f: ReasonFacts): string | null {
  const { ran } = f;
  const secs = ran.capturingAt === null ? 0 : Math.round((f.ended.getTime() - ran.capturingAt) / 1000);
  const reasons: string[] = [];
  if (ran.reason === 'signal' && !f.planned) reasons.push(`interrupted by ${ran.signal} after ${secs} s of capture`);
  if (ran.reason === 'tool-exited') {
    const said = f.stderr.split('\n').map((l) => l.trim()).filter((l) => l.startsWith(`${f.toolName}:`)).at(-1);
    reasons.push(`${f.toolName} exited on its own after ${secs} s (exit code ${ran.end.exitCode ?? ran.end.signal})${said ? `: ${said}` : ''}`);
  }
  if (ran.reason === 'no-header') reasons.push(`${f.toolName} wrote no pcap header within ${HEADER_TIMEOUT_MS / 1000} s`);
  if (ran.stagingError) reasons.push(`staging failed: ${ran.stagingError}`);
  const unparsed = f.files.unparsedInfo();
  if (unparsed) reasons.push(`the capture stream is not whole pcap records from byte ${unparsed.offset} (${unparsed.reason}); those bytes are kept in ${unparsed.path}`);
  if (f.files.mismatched.length > 0) reasons.push(`${f.files.mismatched.length} staged file(s) changed before they reached the bundle`);
  if (f.notWritten > 0) reasons.push(`${f.notWritten} capture file(s) could not be written into the bundle`);
  return reasons.length > 0 ? reasons.join('; ') : null;
}
