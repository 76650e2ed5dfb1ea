import { cleanup } from './lib/fixture.js';
import { machine, printMachine } from './lib/measure.js';

/**
 * npm run bench -- [hash|rss|tar|startup|triage|yara|logs|memory|pcap|all]   (default: all)
 *
 * Benchmarks are run on demand and print numbers; nothing here is a test.
 * Environment: BENCH_RUNS (rounds per figure), BENCH_SIZE_MIB (big file, 2048),
 * BENCH_SMALL_FILES (2000), BENCH_DIR (data dir, default bench/out/),
 * BENCH_KEEP=1 (keep the generated tree for the next run).
 * Results are also saved as JSON in BENCH_DIR/results/.
 */
const BENCHES: Record<string, () => Promise<void>> = {
  hash: async () => (await import('./hash.js')).hashBench(),
  rss: async () => (await import('./rss.js')).rssBench(),
  tar: async () => (await import('./tar.js')).tarBench(),
  startup: async () => (await import('./startup.js')).startupBench(),
  triage: async () => (await import('./triage.js')).triageBench(),
  yara: async () => (await import('./yara.js')).yaraBench(),
  logs: async () => (await import('./logs.js')).logsBench(),
  memory: async () => (await import('./memory.js')).memoryBench(),
  pcap: async () => (await import('./pcap.js')).pcapBench(),
};

const name = process.argv[2] ?? 'all';
const chosen = name === 'all' ? Object.keys(BENCHES) : [name];
if (!chosen.every((n) => n in BENCHES)) {
  console.error(`usage: npm run bench -- [${[...Object.keys(BENCHES), 'all'].join('|')}]`);
  process.exit(2);
}

printMachine(machine());
try {
  for (const n of chosen) await BENCHES[n]!();
} finally {
  await cleanup();
}
