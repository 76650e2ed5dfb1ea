import { createReadStream } from 'node:fs';
import { createLogAnalysis } from '../src/detect/logs/index.js';

/**
 * Child of bench/logs.ts (bundled, so the measured process carries no tsx):
 * analyses one log file as a triage would and prints one JSON report on
 * stdout, with the resident set sampled every 100 ms to show whether memory
 * stays flat as lines go by.   argv: FILE CATEGORY (auth | web)
 */
const [file, category] = process.argv.slice(2);
if (!file || (category !== 'auth' && category !== 'web')) {
  console.error('usage: logs-child FILE auth|web');
  process.exit(2);
}
const samples: number[] = [];
const timer = setInterval(() => samples.push(process.memoryUsage.rss()), 100);
const t0 = performance.now();
const analysis = createLogAnalysis({ timeZone: 'Etc/UTC', now: new Date('2026-11-30T00:00:00Z') });
await analysis.add({
  path: category === 'web' ? '/var/log/nginx/access.log' : '/var/log/auth.log',
  category,
  mtime: new Date('2026-11-29T23:59:00Z'),
  chunks: createReadStream(file, { highWaterMark: 1024 * 1024 }),
});
const findings = analysis.finish();
const ms = performance.now() - t0;
clearInterval(timer);
const ru = process.resourceUsage();
console.log(JSON.stringify({ ms, findings: findings.length, rules: [...new Set(findings.map((f) => f.id))].sort(), maxRssBytes: ru.maxRSS * 1024, cpuMs: (ru.userCPUTime + ru.systemCPUTime) / 1000, samples }));
