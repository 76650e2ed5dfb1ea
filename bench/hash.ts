import { createHash } from 'node:crypto';
import { buildChild, runChild } from './lib/child.js';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { recycledFileChunks } from '../src/evidence/file-chunks.js';
import { CaseWriter, addFile, caseHeader, seal, target } from './lib/case.js';
import { BIG, ensureBig } from './lib/fixture.js';
import { MB, WORK, envInt, fmt, median, mustRun, rmrf, saveResult, table, timed, waitQuiet, warm } from './lib/measure.js';

/**
 * Hashing throughput of the case writer on a BENCH_SIZE_MIB file (2 GiB),
 * against `sha256sum` on the same file and `openssl speed -evp sha256`
 * (16384-byte blocks), interleaved in each round so all see the same load.
 * Targets: ≥ 3× sha256sum, ≥ 60% of openssl.
 *
 * The figure is the tar stream (`triage --stdout`) into /dev/null: read →
 * SHA-256 of the artefact → tar framing → out, all of the case writer's
 * hashing and nothing of a disk's speed, which neither sha256sum nor openssl
 * pays. Beside it, the same with `--archive-hash` (the archive hashed as well,
 * on a worker). The same copy into a dir
 * bundle is printed beside it with `dd bs=1M` writing the same file on the
 * same disk, the ceiling any writer of that disk has.
 */
export async function hashBench(): Promise<void> {
  const size = await ensureBig();
  const rounds = envInt('BENCH_RUNS', 5);
  await warm([BIG]);
  const header = await caseHeader();
  const child = await buildChild();
  const rows: { busy: number; stream: number; streamHashed: number; goldhour: number; dd: number; hashOnly: number; sha256sum: number; openssl: number; openSealMs: number }[] = [];
  let expected: string | null = null;

  for (let r = 1; r <= rounds; r++) {
    const busy = await waitQuiet();
    // goldhour: the copy itself is timed; opening (8 MiB reserve + fsync) and sealing are reported apart.
    const dir = path.join(WORK, `hash-case-${r}`);
    await rmrf(dir);
    const opened = await timed(() => CaseWriter.open(target('dir', dir), header));
    const copy = await timed(() => addFile(opened.value, BIG, 'files/big.bin'));
    const sealed = await timed(() => seal(opened.value));
    await rmrf(dir);

    const ddOut = path.join(WORK, 'hash-dd.bin');
    const dd = await timed(() => mustRun('dd', [`if=${BIG}`, `of=${ddOut}`, 'bs=1M', 'status=none']));
    await rmrf(ddOut);

    const stream = await runChild(child, 'tar', null, BIG, 'devnull');
    const streamHashed = await runChild(child, 'tar', null, BIG, 'devnull', true);

    // The ceiling in node: read ahead + node:crypto, nothing written.
    const hashOnly = await timed(async () => {
      const fh = await fsp.open(BIG, 'r');
      const h = createHash('sha256');
      for await (const c of recycledFileChunks(fh)) h.update(c);
      await fh.close();
      return h.digest('hex');
    });

    const sum = await mustRun('sha256sum', [BIG]);
    const sumHex = sum.stdout.split(' ')[0]!;
    expected ??= sumHex;
    for (const [what, hex] of [['case writer', copy.value.sha256], ['tar stream', stream.report.sha256], ['tar stream, --archive-hash', streamHashed.report.sha256], ['node:crypto', hashOnly.value], ['sha256sum', sumHex]] as const) {
      if (hex !== expected) throw new Error(`${what} hashed ${hex}, expected ${expected}`);
    }

    const openssl = await mustRun('openssl', ['speed', '-evp', 'sha256']);
    const row = {
      busy,
      stream: size / MB / (stream.report.copyMs / 1000),
      streamHashed: size / MB / (streamHashed.report.copyMs / 1000),
      goldhour: size / MB / (copy.ms / 1000),
      dd: size / MB / (dd.ms / 1000),
      hashOnly: size / MB / (hashOnly.ms / 1000),
      sha256sum: size / MB / (sum.ms / 1000),
      openssl: openssl16k(openssl.stdout),
      openSealMs: opened.ms + sealed.ms,
    };
    rows.push(row);
    console.error(`round ${r}/${rounds}: tar stream ${fmt(row.stream)} MB/s (--archive-hash ${fmt(row.streamHashed)}), dir bundle ${fmt(row.goldhour)} (dd ${fmt(row.dd)}), sha256sum ${fmt(row.sha256sum)}, openssl ${fmt(row.openssl)} (cpu busy before ${(busy * 100).toFixed(0)}%)`);
  }

  const med = {
    stream: median(rows.map((r) => r.stream)),
    streamHashed: median(rows.map((r) => r.streamHashed)),
    goldhour: median(rows.map((r) => r.goldhour)),
    dd: median(rows.map((r) => r.dd)),
    hashOnly: median(rows.map((r) => r.hashOnly)),
    sha256sum: median(rows.map((r) => r.sha256sum)),
    openssl: median(rows.map((r) => r.openssl)),
    openSealMs: median(rows.map((r) => r.openSealMs)),
  };
  const vsSum = med.stream / med.sha256sum;
  const vsOpenssl = med.stream / med.openssl;
  console.log(`\n## hash: ${fmt(size / 2 ** 20)} MiB file through the case writer, warm cache, MB/s (10^6 B/s), ${rounds} rounds`);
  table(
    ['round', 'cpu busy', 'tar stream', '--archive-hash', 'dir bundle', 'dd (disk write)', 'node read+hash', 'sha256sum', 'openssl 16 KiB'],
    rows.map((r, i) => [i + 1, `${(r.busy * 100).toFixed(0)}%`, fmt(r.stream), fmt(r.streamHashed), fmt(r.goldhour), fmt(r.dd), fmt(r.hashOnly), fmt(r.sha256sum), fmt(r.openssl)]),
  );
  console.log(
    `median: tar stream ${fmt(med.stream)} MB/s (--archive-hash ${fmt(med.streamHashed)}); dir bundle ${fmt(med.goldhour)} (dd writes that disk at ${fmt(med.dd)}); sha256sum ${fmt(med.sha256sum)}; openssl ${fmt(med.openssl)}; node read+hash alone ${fmt(med.hashOnly)}`,
  );
  console.log(`  vs sha256sum: ${vsSum.toFixed(2)}x (target >= 3x) ${vsSum >= 3 ? 'PASS' : 'FAIL'}`);
  console.log(`  vs openssl:   ${(vsOpenssl * 100).toFixed(0)}% (target >= 60%) ${vsOpenssl >= 0.6 ? 'PASS' : 'FAIL'}`);
  console.log(`  (open + seal of the bundle, not in the figure: ${fmt(med.openSealMs)} ms)`);
  console.log(`saved ${await saveResult('hash', { size, rounds: rows, median: med, vsSha256sum: vsSum, vsOpenssl })}`);
}

/** The sha256 row's 16384-byte column of `openssl speed` (reported in 1000s of bytes per second). */
function openssl16k(out: string): number {
  const lines = out.split('\n');
  const head = lines.find((l) => l.startsWith('type'));
  const row = lines.find((l) => /^sha256\s/.test(l));
  if (!head || !row) throw new Error(`cannot read openssl speed output:\n${out}`);
  const cols = head.split(/\s{2,}/).slice(1);
  const vals = row.trim().split(/\s+/).slice(1);
  const i = cols.findIndex((c) => c.trim() === '16384 bytes');
  const v = vals[i];
  if (i < 0 || v === undefined) throw new Error(`no 16384-byte column in openssl speed output:\n${out}`);
  return Number.parseFloat(v) / 1000;
}
