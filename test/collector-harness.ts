import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SETTINGS, type Collector, type CollectorSettings } from '../src/collectors/collector.js';
import { CaseWriter } from '../src/evidence/case-writer.js';
import type { Manifest } from '../src/evidence/manifest.js';
import { Host } from '../src/host/host.js';
import { buildCaseHeader } from '../src/pipeline/case-header.js';
import { runCollectors } from '../src/pipeline/run-collectors.js';

export interface HarnessResult<Row> {
  rows: Row[];
  manifest: Manifest;
  bundle: string;
}

/**
 * Runs one collector through the real pipeline into a directory bundle and
 * reads back its rows and the manifest: what a triage would produce, without
 * the command line around it. `out` must not exist yet.
 */
export async function runCollector<Row = Record<string, unknown>>(
  collector: Collector,
  out: string,
  opts: { root?: string; proc?: string; settings?: Partial<CollectorSettings> } = {},
): Promise<HarnessResult<Row>> {
  const host = await Host.open({ root: opts.root, proc: opts.proc });
  const header = await buildCaseHeader(host, { caseId: 'test', examiner: undefined, commandLine: ['test'], version: '0.0.0-test', codeRoot: '/nonexistent' });
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6, archiveHash: false }, header);
  host.exclude(out);
  await runCollectors(host, { ...DEFAULT_SETTINGS, ...opts.settings }, writer, [collector], new AbortController().signal, {
    collectorStarted: () => undefined,
    collectorEnded: () => undefined,
  });
  await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
  const parts = readdirSync(path.join(out, 'collectors'))
    .filter((f) => f === `${collector.name}.jsonl` || (f.startsWith(`${collector.name}.`) && /\.\d+\.jsonl$/.test(f)))
    .sort((a, b) => partNumber(a) - partNumber(b));
  const rows = parts.flatMap((f) =>
    readFileSync(path.join(out, 'collectors', f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row),
  );
  return { rows, manifest: JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest, bundle: out };
}

function partNumber(f: string): number {
  const m = f.match(/\.(\d+)\.jsonl$/);
  return m ? Number(m[1]) : 1;
}
