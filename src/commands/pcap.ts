import { Flags } from '@oclif/core';
import path from 'node:path';
import type { BackgroundState } from '../acquire/pcap/background.js';
import { BaseCommand } from '../lib/base-command.js';
import { BUNDLE_FLAGS, checkArchiveHash } from '../lib/bundle-flags.js';
import { termSafe } from '../lib/terminal.js';
import { UserError, errorMessage } from '../lib/user-error.js';

const DEFAULT_SIZE_MB = 100;
const DEFAULT_SNAPLEN = 262_144;
/** See StopLadder: longer than tcpdump's 1 s buffer timeout; then 5 s for each signal. */
const LADDER = { drainMs: 1500, graceMs: 5000 };

export default class Pcap extends BaseCommand {
  static override summary = 'Capture packets with tcpdump or dumpcap into a hashed case bundle, rotating files on goldhour\'s own timer.';

  static override description = `Runs tcpdump (or dumpcap) from a trusted system directory with its pcap stream on a pipe. goldhour splits the stream at packet boundaries into files under acquired/pcap/ (a new file every --rotate seconds, even on an idle link, and before any file would pass --size MB), stages each in a private directory while it grows, and moves it into the bundle through the case writer, which hashes it again; a mismatch is recorded as tampering. acquired/pcap/capture.json records the tool (path, SHA-256, arguments), interface, filter, snap length, times, the tool's own packet statistics and every file. The capture stops on goldhour's timer (--duration) with SIGINT, then SIGTERM, then SIGKILL; the tool is started so that it dies with goldhour, even if goldhour is killed.

--files N keeps only the newest N files: older ones are deleted from staging before they reach the bundle, each recorded with its SHA-256 in the custody log. With --stdout every file is streamed as soon as it is complete, so --files is refused there.

Stopping: --stop BUNDLE, and Ctrl-C when there is no --duration, end the capture as planned (complete bundle); SIGTERM, SIGHUP, or Ctrl-C before --duration is up seal a partial bundle.

Exit codes: 0 complete bundle; 3 partial bundle sealed (the tool exited on its own, a file could not be written, the stream was not whole pcap records, or the output device filled); 129/130/143 partial bundle sealed after SIGHUP/SIGINT/SIGTERM; 2 bad input or no capture tool (tcpdump: Debian/RHEL package tcpdump; dumpcap: Debian wireshark-common, RHEL wireshark-cli); 1 internal error.`;

  static override examples = [
    { description: 'Five minutes on every interface, a new file every minute', command: '<%= config.bin %> pcap --duration 300 --rotate 60 --out /mnt/usb/case-web01-pcap' },
    { description: 'Only traffic to or from a suspect address, kept in a ring of the newest 5 files', command: '<%= config.bin %> pcap --iface eth0 --filter "host 203.0.113.7" --rotate 300 --files 5' },
    { description: 'Nothing kept on the host: stream a tar back over SSH (staging under $TMPDIR, one file at a time)', command: 'ssh web01 sudo ./goldhour pcap --duration 600 --rotate 60 --stdout > pcap.tar' },
    { description: 'In the background for the runbook, then stop it', command: '<%= config.bin %> pcap --background --out case-pcap && <%= config.bin %> pcap --stop case-pcap' },
  ];

  static override flags = {
    duration: Flags.integer({ description: 'seconds to capture [default: until stopped]', min: 1 }),
    rotate: Flags.integer({ description: 'start a new file every S seconds, packets or not', min: 1 }),
    size: Flags.integer({ description: `start a new file before one would pass this many MB (10^6 bytes); 0 for no limit`, default: DEFAULT_SIZE_MB, min: 0 }),
    files: Flags.integer({ description: 'keep only the newest N files (a ring)', min: 1 }),
    iface: Flags.string({ char: 'i', description: 'interface to capture on', default: 'any' }),
    filter: Flags.string({ description: 'BPF capture filter, e.g. "host 203.0.113.7 and port 443"' }),
    snaplen: Flags.integer({ description: 'bytes kept of each packet', default: DEFAULT_SNAPLEN, min: 64, max: DEFAULT_SNAPLEN }),
    tool: Flags.string({ options: ['tcpdump', 'dumpcap'], description: 'capture tool [default: tcpdump, else dumpcap]' }),
    ...BUNDLE_FLAGS,
    stdout: Flags.boolean({ description: 'stream the bundle (tar unless --format says otherwise) to stdout' }),
    format: Flags.string({ char: 'f', options: ['dir', 'tar', 'tgz', 'zip'], description: 'bundle format [default: dir, tar with --stdout]' }),
    staging: Flags.directory({ description: 'where the private staging directory is made [default: beside the bundle; $TMPDIR with --stdout]' }),
    background: Flags.boolean({ description: 'return at once; a detached goldhour captures (stop it with --stop BUNDLE)' }),
    stop: Flags.string({ description: 'stop the background capture writing BUNDLE and wait until it has sealed' }),
    'background-child': Flags.boolean({ hidden: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Pcap);
    if (flags.stop !== undefined) {
      const extra = (['background', 'duration', 'rotate', 'files', 'filter', 'out', 'stdout', 'tool', 'staging'] as const).filter((f) => flags[f] !== undefined && flags[f] !== false);
      if (extra.length > 0) throw new UserError(`--stop takes only the bundle path (drop --${extra.join(', --')})`);
      return this.stopBackground(flags.stop, flags.json);
    }
    if (flags.background && flags.stdout) throw new UserError('--background cannot stream to stdout: give --out');
    const format = (flags.format ?? (flags.stdout ? 'tar' : 'dir')) as 'dir' | 'tar' | 'tgz' | 'zip';
    checkArchiveHash(flags['archive-hash'], format, '--format');
    if (flags.stdout && flags.json) throw new UserError('--json and --stdout both want stdout; use one');
    if (flags.stdout && format === 'dir') throw new UserError('--stdout streams an archive; use --format tar, tgz or zip');
    if (flags.stdout && flags.files !== undefined) {
      throw new UserError('--files keeps the newest N files, which means holding them back until the capture ends; with --stdout each file is streamed as it completes: bound the capture with --duration, or write to --out');
    }
    if (flags.filter !== undefined && flags.filter.trim() === '') throw new UserError('--filter is empty');
    if (flags.background) return this.startBackground(flags);

    const [{ capturePackets }, { SIGNAL_EXIT }, background] = await Promise.all([
      import('../acquire/pcap/run-capture.js'),
      import('../pipeline/interrupt.js'),
      import('../acquire/pcap/background.js'),
    ]);
    const child = flags['background-child'];
    let stateFile = null as string | null;
    let state = null as BackgroundState | null;
    try {
      const result = await capturePackets({
        target: { format, out: flags.stdout ? null : flags.out, encryptTo: [], gzipLevel: 6, archiveHash: flags['archive-hash'] },
        spec: { iface: flags.iface, filter: flags.filter ?? null, snaplen: flags.snaplen },
        tool: (flags.tool ?? null) as 'tcpdump' | 'dumpcap' | null,
        durationMs: flags.duration === undefined ? null : flags.duration * 1000,
        rotateMs: flags.rotate === undefined ? null : flags.rotate * 1000,
        maxFileBytes: flags.size === 0 ? null : flags.size * 1e6,
        ringFiles: flags.files ?? null,
        stagingParent: flags.staging,
        ladder: LADDER,
        quiet: flags.quiet || child,
        caseId: flags.case,
        examiner: flags.examiner,
        commandLine: process.argv.slice(1),
        version: this.config.version,
        codeRoot: this.config.root,
        onCapturing: child
          ? async (info) => {
              stateFile = background.stateFileFor(info.location);
              state = { pid: process.pid, procStart: (await background.procStart(process.pid)) ?? '', location: info.location, caseId: info.caseId, startedAt: new Date().toISOString(), status: 'capturing' };
              await background.writeState(stateFile, state);
              background.reportReady({ ok: true, pid: process.pid, location: info.location, stateFile });
            }
          : undefined,
      });
      const exitCode = result.interruptedBy ? (SIGNAL_EXIT[result.interruptedBy] ?? 1) : result.status === 'partial' ? 3 : 0;
      process.exitCode = exitCode;
      if (stateFile && state) {
        const t = result.sidecar.totals;
        await background.writeState(stateFile, {
          ...state,
          status: 'sealed',
          result: { status: result.status, statusReason: result.statusReason, manifestSha256: result.manifestSha256, archiveSha256: result.archiveSha256, packets: t.packets, files: t.inBundle, exitCode },
        });
      }
      if (flags.json) {
        this.log(JSON.stringify(result, null, 2));
        return;
      }
      if (child) return;
      const s = result.sidecar;
      const stats = s.stats;
      const lines = [
        `goldhour pcap: ${result.status} bundle at ${termSafe(result.location)} (${result.format})`,
        ...(result.statusReason ? [`  partial: ${termSafe(result.statusReason)}`] : []),
        `  packets: ${s.totals.packets} in ${s.totals.inBundle} file(s)${s.totals.droppedByRing ? ` (${s.totals.droppedByRing} older file(s) dropped by the ring)` : ''}`,
        `  ${s.tool.name}: captured ${stats.captured ?? '?'}, received by filter ${stats.receivedByFilter ?? '?'}, dropped by kernel ${stats.droppedByKernel ?? '?'}`,
        ...(result.archiveSha256 ? [`  archive SHA-256:       ${result.archiveSha256}`] : []),
        `  manifest.json SHA-256: ${result.manifestSha256}`,
      ];
      for (const l of lines) process.stderr.write(`${l}\n`);
    } catch (err) {
      if (!child) throw err;
      const exitCode = err instanceof UserError ? err.exitCode : 1;
      if (stateFile && state) {
        await background.writeState(stateFile, { ...state, status: 'failed', error: errorMessage(err) });
      } else {
        background.reportReady({ ok: false, error: errorMessage(err), exitCode });
      }
      process.exitCode = exitCode;
    }
  }

  private async startBackground(flags: Record<string, unknown>): Promise<void> {
    const { startDetached } = await import('../acquire/pcap/background.js');
    const { isSingleFile } = await import('../evidence/tool-identity.js');
    const pass: string[] = [];
    for (const name of ['duration', 'rotate', 'size', 'files', 'iface', 'filter', 'snaplen', 'tool', 'format', 'case', 'examiner'] as const) {
      if (flags[name] !== undefined) pass.push(`--${name}`, String(flags[name]));
    }
    for (const name of ['out', 'staging'] as const) {
      if (flags[name] !== undefined) pass.push(`--${name}`, path.resolve(String(flags[name])));
    }
    if (flags['archive-hash']) pass.push('--archive-hash');
    const self = isSingleFile() ? [process.execPath] : [process.execPath, ...process.execArgv, process.argv[1]!];
    const ready = await startDetached([...self, 'pcap', ...pass, '--background-child']);
    if (!ready.ok) throw new UserError(ready.error, ready.exitCode);
    if (flags.json) {
      this.log(JSON.stringify(ready, null, 2));
      return;
    }
    process.stderr.write(
      `goldhour pcap: capturing in the background (pid ${ready.pid}) into ${termSafe(ready.location)}\n  stop it with: ${termSafe(this.config.bin)} pcap --stop ${termSafe(ready.location)}\n`,
    );
  }

  private async stopBackground(bundle: string, json: boolean): Promise<void> {
    const { stopBackground } = await import('../acquire/pcap/background.js');
    const state = await stopBackground(bundle, (pid) => process.stderr.write(`goldhour pcap: stopping pid ${pid}; waiting for the bundle to be sealed\n`));
    if (state.status === 'failed' || !state.result) throw new UserError(`the background capture into ${state.location} failed: ${state.error ?? 'no result recorded'}`, 1);
    const r = state.result;
    process.exitCode = r.exitCode;
    if (json) {
      this.log(JSON.stringify(state, null, 2));
      return;
    }
    const lines = [
      `goldhour pcap: ${r.status} bundle at ${termSafe(state.location)}`,
      ...(r.statusReason ? [`  partial: ${termSafe(r.statusReason)}`] : []),
      `  packets: ${r.packets} in ${r.files} file(s)`,
      ...(r.archiveSha256 ? [`  archive SHA-256:       ${r.archiveSha256}`] : []),
      `  manifest.json SHA-256: ${r.manifestSha256}`,
    ];
    for (const l of lines) process.stderr.write(`${l}\n`);
  }
}
