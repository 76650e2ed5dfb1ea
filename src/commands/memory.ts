import { Flags } from '@oclif/core';
import { IMAGE_FORMATS, type ImageFormat } from '../acquire/memory/image-format.js';
import { BaseCommand } from '../lib/base-command.js';
import { BUNDLE_FLAGS, checkArchiveHash } from '../lib/bundle-flags.js';
import { termSafe } from '../lib/terminal.js';
import { UserError } from '../lib/user-error.js';

export default class Memory extends BaseCommand {
  static override summary = 'Acquire physical memory (LiME) or the memory of chosen processes (ELF cores) into a hashed case bundle.';

  static override description = `Without --pid: reads physical RAM (the System RAM ranges of /proc/iomem) from /proc/kcore, else /dev/crash, else /dev/mem, and writes acquired/memory.lime (Volatility's LiME format) with a sidecar acquired/memory.lime.json (kernel, iomem, kcore segments, unreadable holes, timing, SHA-256).

With --tool: runs an external acquirer instead (avml, or a LiME kernel module built for this kernel, which works where lockdown closes /proc/kcore), recorded with its SHA-256; its image is staged beside the bundle in a new 0700 directory, hashed into the bundle as acquired/memory.avml.lime or acquired/memory.lime.lime with a sidecar, and the staged copy removed. It needs room for twice the RAM at the destination, and cannot stream to --stdout (both tools write a file).

With --pid: writes acquired/PID/core (an ELF core that readelf and gdb open) for each process, with its executable, maps, smaps, status, environ, cmdline, descriptor links and socket tables, and acquired/PID/core.json.

Every byte is SHA-256 hashed as it is written; the run ends by printing the SHA-256 of manifest.json.

Exit codes: 0 complete bundle; 3 partial bundle (a dump incomplete, or the output device full); 129/130/143 partial bundle sealed after SIGHUP/SIGINT/SIGTERM; 2 bad input or a failed preflight (privileges, lockdown, no kcore, zeroed iomem, no room); 1 internal error.`;

  static override examples = [
    { description: 'Physical memory into a case directory', command: '<%= config.bin %> memory --out /mnt/usb/mem-web01' },
    { description: 'Nothing written on the host: stream the bundle over SSH', command: 'ssh web01 sudo ./goldhour memory --stdout > mem-web01.tar' },
    { description: 'Two processes, stopped while they are dumped', command: '<%= config.bin %> memory --pid 4242 --pid 4243 --freeze --out case-procs' },
    { description: 'A saved kcore-format file and the iomem of its machine', command: '<%= config.bin %> memory --source kcore.elf --iomem iomem.txt --out case' },
    { description: 'With avml brought on the same stick as goldhour', command: '<%= config.bin %> memory --tool /mnt/usb/avml --out /mnt/usb/mem-web01' },
    { description: 'With a LiME module built for this kernel', command: '<%= config.bin %> memory --tool /mnt/usb/lime-$(uname -r).ko --out /mnt/usb/mem-web01' },
  ];

  static override flags = {
    pid: Flags.integer({ description: 'dump this process as an ELF core (repeatable); without it, physical memory is acquired', multiple: true, min: 1 }),
    freeze: Flags.boolean({ description: 'stop each process with SIGSTOP while it is dumped (always resumed, even on Ctrl-C)', dependsOn: ['pid'] }),
    source: Flags.string({ description: 'kcore, crash, mem, or a kcore-format FILE [default: the first of /proc/kcore, /dev/crash, /dev/mem that opens]', exclusive: ['pid'] }),
    iomem: Flags.file({ description: 'a saved /proc/iomem (needed with --source FILE)', exclusive: ['pid'] }),
    format: Flags.string({ char: 'f', options: [...IMAGE_FORMATS], default: 'lime', description: 'image layout: lime (Volatility), padded (offset = physical address), raw (ranges back to back)' }),
    tool: Flags.string({ description: 'acquire with an external tool: avml (from the system directories or beside goldhour), a path to avml, or a path to a LiME module (.ko)', exclusive: ['pid', 'source', 'iomem', 'max-size', 'stdout'] }),
    'max-size': Flags.string({ description: 'stop after this much memory (bytes, or with K, M, G, T)', exclusive: ['pid'] }),
    ...BUNDLE_FLAGS,
    stdout: Flags.boolean({ description: 'stream the bundle as tar to stdout; nothing is written on the host' }),
    bundle: Flags.string({ options: ['dir', 'tar', 'tgz', 'zip'], description: 'bundle format [default: dir, tar with --stdout]' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Memory);
    const bundle = (flags.bundle ?? (flags.stdout ? 'tar' : 'dir')) as 'dir' | 'tar' | 'tgz' | 'zip';
    checkArchiveHash(flags['archive-hash'], bundle, '--bundle');
    if (flags.stdout && flags.json) throw new UserError('--json and --stdout both want stdout; use one');
    if (flags.stdout && bundle === 'dir') throw new UserError('--stdout streams an archive; use --bundle tar, tgz or zip');
    if (flags.tool !== undefined && flags.format !== 'lime') throw new UserError('--format applies to goldhour\'s own reader; with --tool the image is in the tool\'s format');
    const [{ runMemory }, { SIGNAL_EXIT }, { parseSize }] = await Promise.all([
      import('../acquire/memory/run-memory.js'),
      import('../pipeline/interrupt.js'),
      import('../acquire/memory/size-arg.js'),
    ]);

    const result = await runMemory({
      pids: flags.pid ?? [],
      freeze: flags.freeze,
      tool: flags.tool,
      physical: {
        source: flags.source,
        iomemFile: flags.iomem,
        format: flags.format as ImageFormat,
        maxBytes: flags['max-size'] === undefined ? null : parseSize(flags['max-size'], '--max-size'),
      },
      target: { format: bundle, out: flags.stdout ? null : flags.out, encryptTo: [], gzipLevel: 6, archiveHash: flags['archive-hash'] },
      caseId: flags.case,
      examiner: flags.examiner,
      commandLine: process.argv.slice(1),
      version: this.config.version,
      codeRoot: this.config.root,
      quiet: flags.quiet,
      progress: !flags.quiet && !flags.json,
    });

    if (flags.json) {
      this.log(JSON.stringify(result, null, 2));
    } else {
      const lines = [
        `goldhour memory: ${result.status} bundle at ${termSafe(result.location)} (${result.format})`,
        ...(result.statusReason ? [`  partial: ${termSafe(result.statusReason)}`] : []),
        ...(result.image ? [`  ${result.image.path}: ${result.image.size} bytes, ${result.image.holes} unreadable range(s), SHA-256 ${result.image.sha256}`] : []),
        ...result.processes.map((p) => `  pid ${p.pid}: ${p.status}${p.core ? ` ${p.core} SHA-256 ${p.sha256}` : ''}${p.statusReason ? ` (${termSafe(p.statusReason)})` : ''}`),
        ...(result.archiveSha256 ? [`  archive SHA-256:       ${result.archiveSha256}`] : []),
        `  manifest.json SHA-256: ${result.manifestSha256}`,
      ];
      for (const l of lines) process.stderr.write(`${l}\n`);
    }
    if (result.interruptedBy) process.exitCode = SIGNAL_EXIT[result.interruptedBy] ?? 1;
    else if (result.status === 'partial') process.exitCode = 3;
  }
}
