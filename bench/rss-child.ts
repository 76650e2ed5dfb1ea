import { BIG } from './lib/fixture.js';
import { CaseWriter, addFile, caseHeader, seal, target } from './lib/case.js';

/**
 * One bundling, alone in its own process so its peak RSS is its own (and, for
 * the hash bench, its stdout can be /dev/null):
 *   node --import tsx bench/rss-child.ts tar|tgz|zip OUT|-   [FILE]
 * "-" writes the bundle to stdout. Prints one JSON line on stderr at the end.
 */
const [format, out, file = BIG] = process.argv.slice(2) as ['tar' | 'tgz' | 'zip', string, string?];
const t0 = performance.now();
const writer = await CaseWriter.open(target(format, out === '-' ? null : out), await caseHeader());
const copyStart = performance.now();
const artifact = await addFile(writer, file, 'files/big.bin');
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
    sha256: artifact.sha256,
    archiveSha256: sealed.archiveSha256,
  })}\n`,
);
