import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CaptureFiles } from '../src/acquire/pcap/capture-files.js';
import { CaptureProcess } from '../src/acquire/pcap/capture-process.js';
import { Staging } from '../src/acquire/pcap/staging.js';
import { CaseWriter, caseHeader, seal, target } from './lib/case.js';

/**
 * One capture's worth of goldhour's own work, alone in its process so its peak
 * RSS is its own: `cat PCAP` stands in for `tcpdump -w -` (a real pipe), and
 * the stream goes through the record splitter, the staging directory and the
 * case writer into a directory bundle, with files cut at --size 100 MB.
 *   node bench/pcap-child.mjs PCAP OUT_DIR
 * Prints one JSON line on stderr at the end.
 */
const [pcap, out] = process.argv.slice(2) as [string, string];
const header = await caseHeader();
const t0 = performance.now();
const writer = await CaseWriter.open(target('dir', out), header);
const staging = await Staging.create(path.dirname(out));
const files = new CaptureFiles(writer, staging, { bundleDir: 'acquired/pcap', baseName: 'capture', maxFileBytes: 100e6, ringFiles: null }, () => undefined);
const proc = CaptureProcess.start(['/usr/bin/cat', pcap]);
for await (const chunk of proc.stdout as AsyncIterable<Buffer>) await files.take(chunk);
await proc.ended;
await files.finish();
await seal(writer);
const ms = performance.now() - t0;
await fsp.rmdir(staging.dir);
const ru = process.resourceUsage();
process.stderr.write(
  `${JSON.stringify({ ms, bytes: files.bytes, packets: files.packets, files: files.entries.length, maxRssBytes: ru.maxRSS * 1024, userMs: ru.userCPUTime / 1000, sysMs: ru.systemCPUTime / 1000 })}\n`,
);
