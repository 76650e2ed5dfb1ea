import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { termSafe } from '../lib/terminal.js';
import { UserError } from '../lib/user-error.js';
import type { VerifyReport } from '../evidence/verify/verify-bundle.js';

export default class Verify extends BaseCommand {
  static override summary = 'Check a case bundle: every file against the manifest, the custody chain, and optionally a signature.';

  static override description = `Accepts a directory, .tar, .tar.gz/.tgz, .zip, an age-encrypted archive, or '-' for stdin; the format is told by content. Nothing is extracted to disk, so hostile archives (traversal names, symlinks, absurd sizes, truncated streams) are safe to check.

Each file is reported as ok, modified, missing, unexpected or duplicate; the custody chain as intact or broken at line N.

Exit codes: 0 intact, or partial (an interrupted run, sealed and consistent); 1 tampered or incomplete (no manifest, truncated stream); 2 unreadable (not a bundle, bad key, cannot open).`;

  static override examples = [
    '<%= config.bin %> verify case.tar',
    { description: 'Check the manifest against the hash written in the ticket', command: '<%= config.bin %> verify /mnt/usb/case-web01 --expect 3f1c…' },
    { description: 'Signed and encrypted bundle, streamed in', command: 'cat case.tgz.age | <%= config.bin %> verify - --identity ir.agekey --pubkey ir.pub.pem' },
  ];

  static override args = {
    bundle: Args.string({ required: true, description: "bundle directory or archive, or '-' for stdin" }),
  };

  static override flags = {
    expect: Flags.string({ description: 'SHA-256 the manifest.json must have (from the ticket)' }),
    pubkey: Flags.file({ description: 'Ed25519 public key (PEM) that must have signed manifest.json' }),
    identity: Flags.file({ description: 'age identity file (AGE-SECRET-KEY-1...) for an encrypted bundle' }),
    json: Flags.boolean({ description: 'print the full report as one JSON document' }),
    all: Flags.boolean({ description: 'list every file, not only the ones with a problem' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Verify);
    if (flags.expect && !/^[0-9a-fA-F]{64}$/.test(flags.expect)) throw new UserError('--expect takes a SHA-256 in hex (64 characters)');
    // Loaded here, not at the top: --help and --version should not pay for archive readers.
    const [{ loadPublicKey }, { openBundle }, { verifyEntries }] = await Promise.all([
      import('../evidence/signing.js'),
      import('../evidence/verify/open-bundle.js'),
      import('../evidence/verify/verify-bundle.js'),
    ]);
    const publicKey = flags.pubkey ? loadPublicKey(flags.pubkey) : undefined;
    const opened = await openBundle(args.bundle, flags.identity);
    const report = await verifyEntries(opened.entries, opened.kind, opened.encrypted, {
      ...(flags.expect ? { expectSha256: flags.expect } : {}),
      ...(publicKey ? { publicKey } : {}),
    });
    if (flags.json) this.log(JSON.stringify(report, null, 2));
    else for (const line of describe(report, flags.all)) process.stdout.write(`${line}\n`);
    process.exitCode = report.status === 'intact' || report.status === 'partial' ? 0 : 1;
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    await super.catch(err);
    // Exit 1 is a verdict (tampered or incomplete); a check that could not be made is "unreadable".
    if (process.exitCode === 1) process.exitCode = 2;
  }
}

function describe(r: VerifyReport, all: boolean): string[] {
  const c = r.counts;
  const lines = [
    `${r.status.toUpperCase()}  ${r.container}${r.encrypted ? ' (age-encrypted)' : ''}, case ${termSafe(r.manifest.caseId ?? '?')}`,
    `  files: ${c.ok} ok, ${c.modified} modified, ${c.missing} missing, ${c.unexpected} unexpected${c.duplicate ? `, ${c.duplicate} duplicate` : ''}`,
    `  custody chain: ${r.custody.intact ? `intact (${r.custody.lines} lines)` : `broken at line ${r.custody.brokenAt}: ${r.custody.reason}`}`,
    `  manifest.json SHA-256: ${r.manifest.sha256 ?? '(none)'}${r.expected ? ` (${r.expected === 'match' ? 'matches' : 'DOES NOT match'} --expect)` : ''}`,
  ];
  if (r.signature !== 'absent') lines.push(`  signature: ${r.signature}`);
  if (r.manifest.status === 'partial') lines.push(`  run was partial: ${termSafe(r.manifest.statusReason ?? 'no reason given')}`);
  for (const p of r.problems) lines.push(`  problem: ${termSafe(p)}`);
  for (const f of r.files) {
    if (all || f.state !== 'ok') lines.push(`  ${f.state.padEnd(10)} ${termSafe(f.path)}${f.detail ? `  (${termSafe(f.detail)})` : ''}`);
  }
  return lines;
}
