import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { COLLECTORS } from '../collectors/index.js';
import { fileChunks } from '../evidence/file-chunks.js';
import { MANIFEST_FILE, Manifest } from '../evidence/manifest.js';
import { commandOutputStem } from '../lib/command-output.js';
import { UserError, errorMessage } from '../lib/user-error.js';
import { Detector, type Detection } from './detector.js';
import { createLogAnalysis } from './log-analysis.js';
import type { LogFeed, LogOpener } from './log-feed.js';
import type { Rule } from './rule.js';
import { verdictOf, type Verdict } from './verdict.js';

export interface BundleDetection extends Detection {
  verdict: Verdict;
}

/**
 * Runs detection over a directory bundle after the fact: the rows of
 * collectors/*.jsonl in the order a triage runs the collectors, the logs from
 * their copies under files/, and each collector's start time from the
 * manifest. The rows, their order and those times are what a live triage
 * offered its detector, so the findings are the same.
 */
export async function detectBundle(dir: string, opts: { rules?: readonly Rule[]; createLogAnalysis?: LogFeed['create'] | null } = {}): Promise<BundleDetection> {
  const create = opts.createLogAnalysis === undefined ? createLogAnalysis : opts.createLogAnalysis;
  const root = path.resolve(dir);
  const manifest = await readManifest(root);
  const artifacts = manifest.artifacts;
  const logCopies = new Map(artifacts.filter((a) => a.collector === 'logs' && a.source !== null && a.path.startsWith('files/')).map((a) => [a.source!, a.path]));
  // the journal export is journalctl's output under commands/logs/, named after the command line its row gives as path
  const commandOutputs = new Set(artifacts.filter((a) => a.collector === 'logs' && a.path.startsWith('commands/logs/')).map((a) => a.path));
  const detector = new Detector({ ...(opts.rules ? { rules: opts.rules } : {}), logs: create ? { create, open: bundleLogOpener(root, logCopies, commandOutputs) } : null });
  const runs = new Map(manifest.collectors.map((c) => [c.name, c]));
  for (const c of COLLECTORS) {
    const run = runs.get(c.name);
    if (!run || !detector.reads(c.name)) continue;
    detector.begin(c.name, run.started);
    const parts = artifacts
      .map((a) => ({ path: a.path, part: rowPart(a.path, c.name) }))
      .filter((p): p is { path: string; part: number } => p.part !== null)
      .sort((a, b) => a.part - b.part);
    for (const p of parts) {
      const file = inside(root, p.path);
      if (!file) continue;
      for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        if (line !== '') detector.offerLine(c.name, line);
      }
    }
    await detector.ended(c.name);
  }
  const detection = detector.finish();
  return { ...detection, verdict: verdictOf(detection.findings, manifest.status === 'partial') };
}

async function readManifest(root: string): Promise<Manifest> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(root, MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw new UserError(`${root}: not a readable bundle directory (${errorMessage(err)})`);
  }
  let parsed;
  try {
    parsed = Manifest.safeParse(JSON.parse(text));
  } catch {
    throw new UserError(`${root}: manifest.json is not JSON`);
  }
  if (!parsed.success) throw new UserError(`${root}: manifest.json does not match goldhour's manifest (${parsed.error.issues[0]?.path.join('.')})`);
  return parsed.data;
}

/** collectors/NAME.jsonl is part 1, collectors/NAME.N.jsonl part N; anything else null. */
function rowPart(p: string, name: string): number | null {
  if (p === `collectors/${name}.jsonl`) return 1;
  const m = p.startsWith(`collectors/${name}.`) ? /^\.(\d+)\.jsonl$/.exec(p.slice(`collectors/${name}`.length)) : null;
  return m ? Number(m[1]) : null;
}

/** A manifest path as a file under the bundle, or null when it would leave it (the manifest is untrusted input). */
function inside(root: string, rel: string): string | null {
  const full = path.resolve(root, rel);
  return full.startsWith(`${root}${path.sep}`) ? full : null;
}

function bundleLogOpener(root: string, copies: Map<string, string>, commandOutputs: Set<string>): LogOpener {
  return async (row) => {
    const output = row.category === 'journal-export' ? `commands/logs/${commandOutputStem(row.path)}.stdout` : null;
    const rel = output ? (commandOutputs.has(output) ? output : undefined) : copies.get(row.path);
    const file = rel ? inside(root, rel) : null;
    if (!file) return null;
    const st = await fsp.lstat(file).catch(() => null);
    if (!st?.isFile()) return null;
    return (async function* () {
      const fh = await fsp.open(file, 'r');
      try {
        yield* fileChunks(fh);
      } finally {
        await fh.close();
      }
    })();
  };
}
