import path from 'node:path';
import { buildChild, runChild } from './lib/child.js';
import { CaseWriter, addFile, caseHeader, listFiles, seal, target } from './lib/case.js';
import { TREE, ensureBig, ensureSmall } from './lib/fixture.js';
import { MB, WORK, envInt, fmt, median, mustRun, rmrf, saveResult, settle, table, timed, waitQuiet, warm } from './lib/measure.js';

/**
 * Archive throughput on one tree (the 2 GiB file plus 2,000 small files), warm
 * cache, against GNU tar on the same tree:
 *   tar: goldhour's tar stream redirected into a file (`triage --stdout >
 *        case.tar`: every file hashed, no fsync) vs `tar cf`, which makes
 *        the same (no) durability promise. Target: ≥ 80% of `tar cf`. Beside
 *        it, the same stream with `--archive-hash` (the archive hashed too),
 *        and goldhour --format tar --out (fsynced as it goes and at the end,
 *        so "sealed" means on disk) vs `tar cf && sync FILE`, the same promise.
 *   tgz: goldhour --format tgz (gzip level 6, as triage uses) vs `tar czf`
 *        (gzip -6). Target: at least as fast.
 * Rounds interleave the tools; each round first waits for an idle CPU, and
 * every timed run starts after a sync (see settle()).
 */
export async function tarBench(): Promise<void> {
  const bigSize = await ensureBig();
  const small = await ensureSmall();
  const files = await listFiles(TREE);
  const bytes = bigSize + small.bytes;
  await warm([TREE]);
  const header = await caseHeader();
  const child = await buildChild();
  const out = (name: string) => path.join(WORK, name);
  const describe = `${fmt(bigSize / 2 ** 20)} MiB file + ${small.count} small files (${fmt(small.bytes / 2 ** 20, 1)} MiB), ${files.length} files, ${fmt(bytes / MB)} MB`;

  const goldhour = async (format: 'tar' | 'tgz', file: string) => {
    await rmrf(file);
    const t0 = performance.now();
    const writer = await CaseWriter.open(target(format, file), header);
    for (const [abs, rel] of files) await addFile(writer, abs, `files/${rel}`);
    const copied = performance.now();
    await seal(writer);
    const end = performance.now();
    return { ms: end - t0, sealMs: end - copied };
  };

  const results: Record<string, unknown> = { tree: describe, bytes };

  // tar
  const tarRounds = envInt('BENCH_RUNS', 5);
  const tarRows: { busy: number; stream: number; hashed: number; goldhour: number; sealMs: number; tar: number; tarSync: number }[] = [];
  for (let r = 1; r <= tarRounds; r++) {
    const busy = await waitQuiet();
    await settle();
    const gnu = await timed(() => mustRun('tar', ['cf', out('gnu.tar'), '-C', TREE, '.']));
    await rmrf(out('gnu.tar'));
    await settle();
    const stream = await runChild(child, 'tar', null, TREE, { file: out('stream.tar') });
    if (r === 1) await checkEntries(out('stream.tar'), files.length + 3, 'tf');
    await rmrf(out('stream.tar'));
    await settle();
    const hashed = await runChild(child, 'tar', null, TREE, { file: out('hashed.tar') }, true);
    await rmrf(out('hashed.tar'));
    await settle();
    const gh = await goldhour('tar', out('goldhour.tar'));
    if (r === 1) await checkEntries(out('goldhour.tar'), files.length + 3, 'tf');
    await rmrf(out('goldhour.tar'));
    await settle();
    const gnuSync = await timed(() => mustRun('sh', ['-c', 'tar cf "$1" -C "$2" . && sync "$1"', 'sh', out('gnu.tar'), TREE]));
    await rmrf(out('gnu.tar'));
    tarRows.push({ busy, stream: stream.report.ms, hashed: hashed.report.ms, goldhour: gh.ms, sealMs: gh.sealMs, tar: gnu.ms, tarSync: gnuSync.ms });
    console.error(`tar round ${r}/${tarRounds}: goldhour --stdout > file ${fmt(stream.report.ms)} ms (--archive-hash ${fmt(hashed.report.ms)}), goldhour --out ${fmt(gh.ms)} ms (seal ${fmt(gh.sealMs)}), tar cf ${fmt(gnu.ms)} ms, tar cf + sync ${fmt(gnuSync.ms)} ms (cpu busy before ${pct(busy)})`);
  }
  const tarMed = {
    stream: median(tarRows.map((x) => x.stream)),
    hashed: median(tarRows.map((x) => x.hashed)),
    goldhour: median(tarRows.map((x) => x.goldhour)),
    sealMs: median(tarRows.map((x) => x.sealMs)),
    tar: median(tarRows.map((x) => x.tar)),
    tarSync: median(tarRows.map((x) => x.tarSync)),
  };
  const tarRatio = tarMed.tar / tarMed.stream;
  const tarSyncRatio = tarMed.tarSync / tarMed.goldhour;
  console.log(`\n## tar: ${describe}; warm cache; ${tarRounds} rounds; times in ms, MB/s = 10^6 B/s`);
  table(
    ['round', 'cpu busy', 'goldhour --stdout > file', 'tar cf', 'same, --archive-hash', 'goldhour --out (fsync)', '(of which seal+fsync)', 'tar cf && sync'],
    tarRows.map((x, i) => [i + 1, pct(x.busy), fmt(x.stream), fmt(x.tar), fmt(x.hashed), fmt(x.goldhour), fmt(x.sealMs), fmt(x.tarSync)]),
  );
  console.log(`median: goldhour --stdout > file ${fmt(tarMed.stream)} ms = ${fmt(rate(bytes, tarMed.stream))} MB/s; tar cf ${fmt(tarMed.tar)} ms = ${fmt(rate(bytes, tarMed.tar))} MB/s`);
  console.log(`        goldhour --out ${fmt(tarMed.goldhour)} ms = ${fmt(rate(bytes, tarMed.goldhour))} MB/s; tar cf && sync ${fmt(tarMed.tarSync)} ms = ${fmt(rate(bytes, tarMed.tarSync))} MB/s`);
  console.log(`  stream vs tar cf:         ${(tarRatio * 100).toFixed(0)}% (target >= 80%) ${tarRatio >= 0.8 ? 'PASS' : 'FAIL'}`);
  console.log(`  with --archive-hash:      ${((tarMed.tar / tarMed.hashed) * 100).toFixed(0)}% of tar cf (${fmt(tarMed.hashed)} ms)`);
  console.log(`  --out vs tar cf && sync:  ${(tarSyncRatio * 100).toFixed(0)}% (both durable on return)`);
  results.tar = { rounds: tarRows, median: tarMed, vsTar: tarRatio, vsTarSync: tarSyncRatio };

  // tgz: compression dominates (minutes per round), so fewer rounds by default; 0 skips it.
  const tgzRounds = envInt('BENCH_TGZ_RUNS', 3, 0);
  if (tgzRounds === 0) {
    console.log(`saved ${await saveResult('tar', results)}`);
    return;
  }
  const tgzRows: { busy: number; goldhour: number; tar: number; goldhourBytes: number; tarBytes: number }[] = [];
  for (let r = 1; r <= tgzRounds; r++) {
    const busy = await waitQuiet();
    await settle();
    const gnu = await timed(() => mustRun('tar', ['czf', out('gnu.tgz'), '-C', TREE, '.']));
    const tarBytes = (await import('node:fs')).statSync(out('gnu.tgz')).size;
    await rmrf(out('gnu.tgz'));
    await settle();
    const gh = await goldhour('tgz', out('goldhour.tgz'));
    const goldhourBytes = (await import('node:fs')).statSync(out('goldhour.tgz')).size;
    if (r === 1) await checkEntries(out('goldhour.tgz'), files.length + 3, 'tzf');
    await rmrf(out('goldhour.tgz'));
    tgzRows.push({ busy, goldhour: gh.ms, tar: gnu.ms, goldhourBytes, tarBytes });
    console.error(`tgz round ${r}/${tgzRounds}: goldhour ${fmt(gh.ms)} ms, tar czf ${fmt(gnu.ms)} ms (cpu busy before ${pct(busy)})`);
  }
  const tgzMed = { goldhour: median(tgzRows.map((x) => x.goldhour)), tar: median(tgzRows.map((x) => x.tar)) };
  const tgzRatio = tgzMed.tar / tgzMed.goldhour;
  console.log(`\n## tgz: same tree; gzip level 6 both; ${tgzRounds} rounds; times in ms`);
  table(
    ['round', 'cpu busy', 'goldhour tgz', 'tar czf', 'goldhour bytes', 'tar czf bytes'],
    tgzRows.map((x, i) => [i + 1, pct(x.busy), fmt(x.goldhour), fmt(x.tar), fmt(x.goldhourBytes), fmt(x.tarBytes)]),
  );
  console.log(`median: goldhour ${fmt(tgzMed.goldhour)} ms = ${fmt(rate(bytes, tgzMed.goldhour))} MB/s; tar czf ${fmt(tgzMed.tar)} ms = ${fmt(rate(bytes, tgzMed.tar))} MB/s`);
  console.log(`  vs tar czf: ${(tgzRatio * 100).toFixed(0)}% (target >= 100%) ${tgzRatio >= 1 ? 'PASS' : 'FAIL'}`);
  results.tgz = { rounds: tgzRows, median: tgzMed, vsTarCzf: tgzRatio };

  console.log(`saved ${await saveResult('tar', results)}`);
}

const rate = (bytes: number, ms: number) => bytes / MB / (ms / 1000);
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

/** A sanity check that the archive holds every file plus findings, custody and manifest. */
async function checkEntries(file: string, want: number, flags: string): Promise<void> {
  const listed = (await mustRun('tar', [flags, file])).stdout.split('\n').filter(Boolean).length;
  if (listed !== want) throw new Error(`${file}: ${listed} entries, expected ${want}`);
}
