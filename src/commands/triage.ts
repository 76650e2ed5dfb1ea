import { Flags } from '@oclif/core';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SETTINGS } from '../collectors/collector.js';
import { BaseCommand, splitList } from '../lib/base-command.js';
import { BUNDLE_FLAGS, checkArchiveHash } from '../lib/bundle-flags.js';
import { termSafe } from '../lib/terminal.js';
import { UserError, errnoCode } from '../lib/user-error.js';

export default class Triage extends BaseCommand {
  static override summary = 'Collect a triage of this host (or a mounted image) into a hashed case bundle.';

  static override description = `Reads /proc, /sys and files directly (never ps, netstat or ls), most volatile first, and writes a bundle in which every file is SHA-256 hashed as it is written, with manifest.json and a hash-chained custody.jsonl. Detection rules judge the rows as they are collected: the run ends with a verdict for the host (clean, suspicious or compromised), the high and critical findings that explain it, and the SHA-256 of manifest.json: write it into the ticket. Findings are in findings.jsonl, the verdict in verdict.json (docs/rules.md lists the rules).

Exit codes: 0 complete bundle; 3 partial bundle sealed (output device full); 129/130/143 partial bundle sealed after SIGHUP/SIGINT/SIGTERM; 2 bad input; 1 internal error.`;

  static override examples = [
    { description: 'Triage into a case directory on a mounted USB stick', command: '<%= config.bin %> triage --out /mnt/usb/case-web01' },
    { description: 'One compressed archive', command: '<%= config.bin %> triage --format tgz --out case.tgz' },
    { description: 'Nothing written on the host: stream a tar back over SSH', command: 'ssh web01 sudo ./goldhour triage --stdout > case.tar' },
    { description: 'A mounted disk image, with a /proc saved at acquisition', command: '<%= config.bin %> triage --root /mnt/image --proc /mnt/saved-proc --out case' },
    { description: 'Signed, and encrypted to the response team\'s age key', command: '<%= config.bin %> triage --sign ir.pem --encrypt-to age1... --out case.tgz.age' },
  ];

  static override flags = {
    root: Flags.directory({ description: 'examine a mounted image at DIR instead of the live system' }),
    proc: Flags.directory({ description: 'a saved /proc for --root' }),
    ...BUNDLE_FLAGS,
    stdout: Flags.boolean({ description: 'stream the bundle (tar unless --format says otherwise) to stdout; nothing is written on the host' }),
    format: Flags.string({ char: 'f', options: ['dir', 'tar', 'tgz', 'zip'], description: 'bundle format [default: dir, tar with --stdout, tgz with --encrypt-to]' }),
    only: Flags.string({ description: 'run only these collectors (comma-separated)' }),
    skip: Flags.string({ description: 'skip these collectors (comma-separated)' }),
    sign: Flags.file({ description: 'Ed25519 private key (PEM) to sign manifest.json (writes manifest.sig)' }),
    'encrypt-to': Flags.string({ description: 'age X25519 recipient (age1...); the whole bundle stream is encrypted', multiple: true }),
    gentle: Flags.boolean({ description: 'besides the default low CPU and idle I/O priority, keep goldhour on one CPU', exclusive: ['full-speed'] }),
    'full-speed': Flags.boolean({ description: 'do not lower goldhour\'s priority (by default a live triage yields to the server\'s own work)' }),
    'copy-deleted': Flags.boolean({ description: 'copy executables of running processes that were deleted from disk into the bundle' }),
    deep: Flags.boolean({ description: 'slower and fuller: check every file of every installed package (not only binaries, libraries, PAM modules and sshd), and probe every pid up to pid_max for hidden processes' }),
    recent: Flags.integer({ description: 'days back that "recently changed" system files reach', default: DEFAULT_SETTINGS.recentDays, min: 0 }),
    bodyfile: Flags.string({ description: 'paths to walk for a timeline bodyfile (comma-separated; / for the whole filesystem)' }),
    ioc: Flags.file({ description: 'indicators of compromise to match (a plain list, CSV or a STIX 2.1 bundle); repeatable', multiple: true }),
    yara: Flags.directory({ description: 'scan temp files and running executables (and --pid memory) with the YARA rules (*.yar, *.yara) under DIR' }),
    pid: Flags.integer({ description: 'with --yara: also scan the memory of this process; repeatable', multiple: true, min: 1, dependsOn: ['yara'] }),
    'log-max': Flags.integer({ description: 'most MiB copied from any one log file', default: DEFAULT_SETTINGS.logMaxBytes / 1048576, min: 1 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Triage);
    const encryptTo = flags['encrypt-to'] ?? [];
    for (const r of encryptTo) if (!/^age1[0-9a-z]+$/.test(r)) throw new UserError(`--encrypt-to ${r}: not an age recipient (age1...)`);
    const format = (flags.format ?? (encryptTo.length > 0 ? 'tgz' : flags.stdout ? 'tar' : 'dir')) as 'dir' | 'tar' | 'tgz' | 'zip';
    checkArchiveHash(flags['archive-hash'], format, '--format');
    if (flags.stdout && flags.json) throw new UserError('--json and --stdout both want stdout; use one');
    if (flags.stdout && format === 'dir') throw new UserError('--stdout streams an archive; use --format tar, tgz or zip');
    if (encryptTo.length > 0 && format === 'dir') throw new UserError('--encrypt-to encrypts an archive stream; use --format tar, tgz or zip');
    if (flags.proc && !flags.root) throw new UserError('--proc goes with --root');
    // Loaded here, not at the top: --help and --version should not pay for the whole pipeline.
    const [{ triage }, { loadSigner }, { SIGNAL_EXIT }, { summaryLines }] = await Promise.all([
      import('../pipeline/triage.js'),
      import('../evidence/signing.js'),
      import('../pipeline/interrupt.js'),
      import('../detect/summary.js'),
    ]);

    // Indicator and rule files are read and checked before anything is collected: a bad one stops here.
    const ioc = flags.ioc ? await loadIoc(flags.ioc) : null;
    const yara = flags.yara ? await loadYara(flags.yara, flags.pid ?? [], flags.stdout ? null : flags.out) : null;
    const result = await triage({
      ioc,
      yara,
      root: flags.root,
      proc: flags.proc,
      target: { format, out: flags.stdout ? null : flags.out, encryptTo, gzipLevel: 6, archiveHash: flags['archive-hash'] },
      only: splitList(flags.only),
      skip: splitList(flags.skip),
      caseId: flags.case,
      examiner: flags.examiner,
      commandLine: process.argv.slice(1),
      version: this.config.version,
      codeRoot: this.config.root,
      signer: flags.sign ? loadSigner(flags.sign) : null,
      quiet: flags.quiet,
      priority: flags['full-speed'] ? 'full-speed' : flags.gentle ? 'gentle' : 'low',
      settings: {
        copyDeleted: flags['copy-deleted'],
        deep: flags.deep,
        recentDays: flags.recent,
        bodyfile: splitList(flags.bodyfile),
        logMaxBytes: flags['log-max'] * 1048576,
      },
    });

    if (flags.json) {
      this.log(JSON.stringify(result, null, 2));
    } else {
      const lines = [
        `goldhour triage: ${result.status} bundle at ${termSafe(result.location)} (${result.format}${result.encrypted ? ', age-encrypted' : ''})`,
        ...(result.statusReason ? [`  partial: ${result.statusReason}`] : []),
        ...summaryLines(result.findings, result.verdict).map((l) => `  ${l}`),
        `  artefacts: ${result.artifacts}   errors: ${result.errors}`,
        ...result.collectors.filter((c) => c.status !== 'ok').map((c) => `  collector ${c.name}: ${c.status}`),
        ...(result.archiveSha256 ? [`  archive SHA-256:       ${result.archiveSha256}`] : []),
        `  manifest.json SHA-256: ${result.manifestSha256}`,
      ];
      for (const l of lines) process.stderr.write(`${l}\n`);
    }
    if (result.interruptedBy) process.exitCode = SIGNAL_EXIT[result.interruptedBy] ?? 1;
    else if (result.status === 'partial') process.exitCode = 3;
  }
}

/** Every --ioc file; problems go to stderr now and into the bundle's errors; a file with no indicator at all stops the run. */
async function loadIoc(files: string[]) {
  const { loadIndicators } = await import('../detect/ioc/index.js');
  const sets = [];
  const problems: string[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(file);
    } catch (err) {
      throw new UserError(`--ioc ${termSafe(file)}: ${errnoCode(err) === 'ENOENT' ? 'does not exist' : `cannot be read (${errnoCode(err) ?? 'EIO'})`}`);
    }
    const loaded = loadIndicators(bytes, file);
    if (loaded.indicators.size === 0) throw new UserError(`--ioc ${termSafe(file)}: no indicator loaded${loaded.problems[0] ? ` (${termSafe(loaded.problems[0])})` : ''}`);
    sets.push(loaded.indicators);
    problems.push(...loaded.problems);
  }
  for (const p of problems) process.stderr.write(`goldhour triage: --ioc: ${termSafe(p)}\n`);
  return { sets, problems };
}

/** The YARA engine and rules, loaded before the collection; the embedded engine (single executable) is written beside the bundle. */
async function loadYara(dir: string, pids: number[], out: string | undefined | null) {
  const { loadYaraRules } = await import('../detect/yara/index.js');
  const parent = out ? path.dirname(path.resolve(out)) : null;
  // a parent the bundle writer has yet to create cannot hold the engine: TMPDIR then
  const tmpParent = parent && (await fsp.stat(parent).catch(() => null))?.isDirectory() ? parent : null;
  const loaded = await loadYaraRules(dir, { tmpParent });
  for (const p of loaded.problems) process.stderr.write(`goldhour triage: --yara: ${termSafe(p)}\n`);
  return { ...loaded, memoryPids: pids };
}
