import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO, envInt, fmt, median, mustRun, saveResult, table, waitQuiet } from './lib/measure.js';

/**
 * Start-up time of `goldhour --version`: `node bin/run.js` (needs lib/, built
 * with `npx tsc -p tsconfig.build.json`), and the single-file executable
 * dist/goldhour when it has been built. Two warm-up runs, then the median of
 * BENCH_STARTUP_RUNS (default 20) timed spawns, each to exit.
 */
export async function startupBench(): Promise<void> {
  const runs = envInt('BENCH_STARTUP_RUNS', 20);
  const targets: { label: string; cmd: string; args: string[]; available: boolean }[] = [
    { label: 'node bin/run.js --version', cmd: process.execPath, args: [path.join(REPO, 'bin/run.js'), '--version'], available: existsSync(path.join(REPO, 'lib/commands/index.js')) },
    { label: 'dist/goldhour --version', cmd: path.join(REPO, 'dist/goldhour'), args: ['--version'], available: existsSync(path.join(REPO, 'dist/goldhour')) },
  ];
  const rows: { label: string; version: string | null; median: number | null; min: number | null; max: number | null; runs: number; busy: number | null }[] = [];
  for (const t of targets) {
    if (!t.available) {
      rows.push({ label: t.label, version: null, median: null, min: null, max: null, runs: 0, busy: null });
      continue;
    }
    const busy = await waitQuiet();
    const version = (await mustRun(t.cmd, t.args, { cwd: REPO })).stdout.trim();
    await mustRun(t.cmd, t.args, { cwd: REPO });
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push((await mustRun(t.cmd, t.args, { cwd: REPO })).ms);
    rows.push({ label: t.label, version, median: median(times), min: Math.min(...times), max: Math.max(...times), runs, busy });
  }
  console.log(`\n## startup: wall time to exit, ms (${runs} runs after 2 warm-ups)`);
  table(
    ['command', 'median', 'min', 'max', 'prints', 'cpu busy before'],
    rows.map((r) =>
      r.median === null
        ? [r.label, 'not built', '', '', '', '']
        : [r.label, fmt(r.median), fmt(r.min!), fmt(r.max!), r.version ?? '', `${((r.busy ?? 0) * 100).toFixed(0)}%`],
    ),
  );
  if (rows.some((r) => r.median === null)) console.log('(not built: build lib/ with `npx tsc -p tsconfig.build.json`, dist/goldhour with `npm run build:sea`, then rerun `npm run bench -- startup`)');
  console.log(`saved ${await saveResult('startup', { rows })}`);
}
