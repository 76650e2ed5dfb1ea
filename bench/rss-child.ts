import { statSync } from 'node:fs';
import { BIG } from './lib/fixture.js';
import { CaseWriter, addFile, caseHeader, listFiles, seal, target } from './lib/case.js';

/**
 * One bundling, alone in its own process so its peak RSS is its own (and its
 * stdout can be /dev/null or a file, as `triage --stdout > case.tar` does):
 *   node --import tsx bench/rss-child.ts tar|tgz|zip OUT|-   [FILE|DIR] [archive-hash]
 * "-" writes the bundle to stdout; a DIR adds every file under it;
 * "archive-hash" hashes the archive too, as `--archive-hash` does. The header
 * (which hashes node and the code) is built before the clock starts, as the
 * in-process benches do. Prints one JSON line on stderr at the end.
 */
const [format, out, source = BIG, hashFlag] = process.argv.slice(2) as ['tar' | 'tgz' | 'zip', string, string?, string?];
const header = await caseHeader();
const t0 = performance.now();
const writer = await CaseWriter.open(target(format, out === '-' ? null : out, { archiveHash: hashFlag === 'archive-hash' }), header);
const copyStart = performance.now();
const files = statSync(source).isDirectory() ? await listFiles(source) : [[source, 'big.bin'] as [string, string]];
let artifact = null;
for (const [abs, rel] of files) artifact = await addFile(writer, abs, `files/${rel}`);
const copyMs = performance.now() - copyStart;
const sealed = await seal(writer);
const ru = process.resourceUsage();
process.stderr.write(
  `${JSON.stringify({
    format,
    out,
    ms: performance.now() - t0,
    copyMs,
    maxRssBytes: ru.maxRSS * 1024,
    userMs: ru.userCPUTime / 1000,
    sysMs: ru.systemCPUTime / 1000,
    sha256: artifact?.sha256,
    archiveSha256: sealed.archiveSha256,
  })}\n`,
);
