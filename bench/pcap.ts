import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { globalHeader, record } from '../test/pcap-fixtures.js';
import { MiB } from './lib/data.js';
import { MB, REPO, WORK, envInt, fmt, median, mustRun, rmrf, saveResult, table, timed, waitQuiet, warm } from './lib/measure.js';

/**
 * Sustained throughput of goldhour's side of a capture: a synthetic pcap
 * stream (BENCH_PCAP_MIB, default 1024 MiB) piped from `cat` (as tcpdump
 * writes to goldhour's pipe) through the record splitter, staging and the case
 * writer into a directory bundle, files cut at 100 MB. Two streams: "mixed"
 * (records cycling through 60, 1514, 590, 130 and 1514 bytes of packet, about
 * 780 on average, like bulk TCP with acknowledgements) and "small" (64-byte
 * packets: the most records per byte, where the per-record walk costs most).
 * Beside it on the same disk: `cat file > copy` (one write of every byte, no
 * splitting or hashing) and `cat file | cat > /dev/null` (the pipe alone).
 * goldhour writes every byte twice (staging, then the bundle) and reads it back
 * once. Each figure runs in its own process (peak RSS from getrusage).
 * BENCH_KEEP=1 keeps the generated streams for the next run.
 */
export async function pcapBench(): Promise<void> {
  const size = envInt('BENCH_PCAP_MIB', 1024) * MiB;
  const rounds = envInt('BENCH_RUNS', 3);
  const child = await buildPcapChild();
  const streams = [
    { name: 'mixed', file: path.join(WORK, 'pcap-mixed.pcap'), packetSizes: [60, 1514, 590, 130, 1514] },
    { name: 'small', file: path.join(WORK, 'pcap-small.pcap'), packetSizes: [64] },
  ];
  const results: Record<string, unknown> = { size };
  for (const s of streams) {
    const packets = await ensurePcap(s.file, size, s.packetSizes);
    await warm([s.file]);
    const rows: { busy: number; goldhourMs: number; rssMb: number; cpuMs: number; copyMs: number; pipeMs: number }[] = [];
    for (let r = 1; r <= rounds; r++) {
      const busy = await waitQuiet();
      const out = path.join(WORK, 'pcap-case');
      await rmrf(out);
      const g = await runPcapChild(child, s.file, out);
      if (g.packets !== packets) throw new Error(`goldhour saw ${g.packets} packets of ${packets}`);
      await rmrf(out);
      const copy = path.join(WORK, 'pcap-copy');
      await rmrf(copy);
      const c = await timed(() => mustRun('sh', ['-c', 'cat "$1" > "$2"', 'sh', s.file, copy]));
      await rmrf(copy);
      const p = await timed(() => mustRun('sh', ['-c', 'cat "$1" | cat > /dev/null', 'sh', s.file]));
      rows.push({ busy, goldhourMs: g.ms, rssMb: g.maxRssBytes / 1e6, cpuMs: g.userMs + g.sysMs, copyMs: c.ms, pipeMs: p.ms });
      console.error(`pcap ${s.name} round ${r}/${rounds}: goldhour ${fmt(g.ms)} ms (${fmt(g.files)} files, peak RSS ${fmt(g.maxRssBytes / 1e6, 1)} MB), cat > copy ${fmt(c.ms)} ms, cat | cat ${fmt(p.ms)} ms`);
    }
    const med = (k: keyof (typeof rows)[number]) => median(rows.map((x) => x[k]));
    const rate = (ms: number) => size / MB / (ms / 1000);
    console.log(`\n## pcap ${s.name}: ${fmt(size / MiB)} MiB stream, ${fmt(packets)} packets (${fmt(size / packets)} bytes a record); ${rounds} rounds; MB = 10^6 bytes`);
    table(
      ['round', 'cpu busy', 'goldhour ms', 'MB/s', 'packets/s', 'peak RSS MB', 'cpu ms', 'cat > copy MB/s', 'cat | cat MB/s'],
      rows.map((x, i) => [i + 1, `${Math.round(x.busy * 100)}%`, fmt(x.goldhourMs), fmt(rate(x.goldhourMs)), fmt(packets / (x.goldhourMs / 1000)), fmt(x.rssMb, 1), fmt(x.cpuMs), fmt(rate(x.copyMs)), fmt(rate(x.pipeMs))]),
    );
    console.log(`median: goldhour ${fmt(rate(med('goldhourMs')))} MB/s = ${fmt(packets / (med('goldhourMs') / 1000))} packets/s, peak RSS ${fmt(med('rssMb'), 1)} MB; cat > copy ${fmt(rate(med('copyMs')))} MB/s; pipe alone ${fmt(rate(med('pipeMs')))} MB/s`);
    results[s.name] = { packets, rounds: rows, medianMBps: rate(med('goldhourMs')), medianPacketsPerS: packets / (med('goldhourMs') / 1000), medianRssMb: med('rssMb') };
  }
  console.log(`saved ${await saveResult('pcap', results)}`);
  if (!process.env.BENCH_KEEP) for (const s of streams) for (const f of [s.file, `${s.file}.${size}.packets`]) await rmrf(f);
}

/** Writes a pcap of `size` bytes (to the last whole record) cycling through `packetSizes`; returns its packet count. */
async function ensurePcap(file: string, size: number, packetSizes: number[]): Promise<number> {
  const marker = `${file}.${size}.packets`;
  const known = await fsp.readFile(marker, 'utf8').catch(() => null);
  const st = await fsp.stat(file).catch(() => null);
  if (known !== null && st !== null && st.size <= size && st.size > size - 2000) return Number(known);
  process.stderr.write(`generating ${file} (${fmt(size / MiB)} MiB) …\n`);
  const spec = { littleEndian: true, nanoseconds: false };
  const templates = packetSizes.map((n, i) => record(spec, { sec: 0, frac: 0, data: Buffer.alloc(n, 0x41 + i) }));
  const fh = await fsp.open(file, 'w', 0o600);
  let written = 0;
  let packets = 0;
  try {
    await fh.write(globalHeader(spec));
    written = 24;
    while (true) {
      const batch: Buffer[] = [];
      let batchBytes = 0;
      while (batchBytes < 4 * MiB) {
        const t = templates[packets % templates.length]!;
        if (written + batchBytes + t.length > size) break;
        const r = Buffer.from(t);
        r.writeUInt32LE(1_700_000_000 + Math.floor(packets / 1e6), 0);
        r.writeUInt32LE(packets % 1e6, 4);
        batch.push(r);
        batchBytes += r.length;
        packets++;
      }
      if (batch.length === 0) break;
      await fh.write(Buffer.concat(batch));
      written += batchBytes;
    }
  } finally {
    await fh.close();
  }
  await fsp.writeFile(marker, String(packets));
  return packets;
}

/** bench/pcap-child.ts bundled by esbuild, so the measured process carries no tsx. */
async function buildPcapChild(): Promise<string> {
  const out = path.join(WORK, 'pcap-child.mjs');
  await fsp.mkdir(WORK, { recursive: true });
  await mustRun(path.join(REPO, 'node_modules/.bin/esbuild'), [path.join(REPO, 'bench/pcap-child.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`, '--log-level=warning']);
  return out;
}

interface PcapChildReport {
  ms: number;
  bytes: number;
  packets: number;
  files: number;
  maxRssBytes: number;
  userMs: number;
  sysMs: number;
}

function runPcapChild(child: string, pcap: string, out: string): Promise<PcapChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, pcap, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const last = stderr.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`pcap child exited ${code}: ${stderr}`));
      resolve(JSON.parse(last) as PcapChildReport);
    });
  });
}

