import { Flags } from '@oclif/core';
import { UserError } from './user-error.js';

/** The flags every command that writes a case bundle takes, in the same words (triage, memory, pcap). */
export const BUNDLE_FLAGS = {
  out: Flags.string({ char: 'o', description: 'bundle path: a new or empty directory (dir) or a new file (archives)', exclusive: ['stdout'] }),
  case: Flags.string({ description: 'case identifier [default: HOSTNAME-UTCSTAMP]' }),
  examiner: Flags.string({ description: 'name of the examiner, recorded in the manifest and custody log' }),
  json: Flags.boolean({ description: 'print one JSON document on stdout; progress goes to stderr' }),
  quiet: Flags.boolean({ char: 'q', description: 'no progress lines on stderr' }),
  'archive-hash': Flags.boolean({
    description:
      'also hash the archive file or stream itself as it is written, and print its SHA-256 (to compare with sha256sum of the received file); a second SHA-256 of every byte, about a quarter of the tar speed on two cores. manifest.json\'s SHA-256 already covers every file',
  }),
};

/** A directory bundle is no single file or stream, so it has no SHA-256 of its own to print. */
export function checkArchiveHash(archiveHash: boolean, format: string, formatFlag: string): void {
  if (archiveHash && format === 'dir') throw new UserError(`--archive-hash hashes an archive; use ${formatFlag} tar, tgz or zip (manifest.json's SHA-256 covers a directory)`);
}
