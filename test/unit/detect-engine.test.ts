import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { COLLECTORS } from '../../src/collectors/index.js';
import { ATTACK_VERSION, RENUMBERED, TECHNIQUES, currentId, formerIds } from '../../src/detect/attack.js';
import { gzipSync } from 'node:zlib';
import { Detector } from '../../src/detect/detector.js';
import { createLogAnalysis } from '../../src/detect/log-analysis.js';
import { tapLines, triageLogFeed, type LogHostFacts } from '../../src/detect/log-feed.js';
import { IOC_RULES } from '../../src/detect/ioc/index.js';
import { YARA_RULE } from '../../src/detect/yara/index.js';
import { AttackId, Finding } from '../../src/detect/finding.js';
import { MAX_PER_RULE } from '../../src/detect/finding-set.js';
import { LOG_RULES } from '../../src/detect/logs/index.js';
import { rowRule } from '../../src/detect/rule.js';
import { ROW_SOURCES } from '../../src/detect/rows.js';
import { DOC_FAMILIES, RULES } from '../../src/detect/rules/index.js';
import { rulesDocs } from '../../src/detect/rules-docs.js';
import { summaryLines } from '../../src/detect/summary.js';
import { VERDICT_POLICY, Verdict, verdictOf } from '../../src/detect/verdict.js';
import { PROJECT } from '../helpers.js';
import { SEEN, detect, row } from './detect-cases.js';

test('docs/rules.md is what the rule declarations generate (run npm run docs:rules)', () => {
  assert.equal(readFileSync(path.join(PROJECT, 'docs/rules.md'), 'utf8'), rulesDocs(DOC_FAMILIES));
});

/**
 * A file hash or a YARA signature says what a thing is, not how it was used: the
 * technique is the feed's or the rule author's to state, so these may name none.
 */
const IDENTITY_MATCHES = new Set(['ioc.hash', 'ioc.hash.process', 'yara.match']);
const EXTRA_RULES = [...Object.entries(IOC_RULES).map(([id, r]) => ({ id, ...r, reads: [] as string[] })), { ...YARA_RULE, reads: ['temp-files', 'processes'] }];

test('every rule is complete: unique dotted id, named ATT&CK techniques, a responder\'s paragraph, false positives', () => {
  const ids = new Set<string>();
  for (const r of [...RULES, ...EXTRA_RULES]) {
    assert.ok(!ids.has(r.id), `duplicate id ${r.id}`);
    ids.add(r.id);
    assert.ok(Finding.shape.id.safeParse(r.id).success, r.id);
    assert.ok(r.attack.length > 0 || r.id.endsWith('.background') || IDENTITY_MATCHES.has(r.id), `${r.id} names no technique`);
    for (const a of r.attack) {
      assert.ok(AttackId.safeParse(a).success, `${r.id}: ${a}`);
      assert.ok(TECHNIQUES[a], `${r.id}: ${a} is not in the ${ATTACK_VERSION} table`);
      assert.equal(currentId(a), a, `${r.id}: ${a} was renumbered in v19`);
    }
    assert.ok(r.description.length >= 150 && r.description.endsWith('.'), `${r.id}: description`);
    assert.ok(r.falsepositives.length > 0, `${r.id}: false positives`);
    for (const s of r.reads) assert.ok(COLLECTORS.some((c) => c.name === s), `${r.id} reads ${s}, which is no collector`);
  }
});

test('the log analysis\'s rules name ATT&CK techniques by their v19 IDs too', () => {
  for (const r of LOG_RULES) for (const a of r.attack) assert.equal(currentId(a), a, `${r.id}: ${a} was renumbered in v19 (now ${currentId(a)})`);
});

test('old ATT&CK IDs stay readable: each renumbered technique maps both ways', () => {
  for (const r of RENUMBERED) {
    assert.equal(currentId(r.before), r.v19);
    assert.ok(formerIds(r.v19).includes(r.before));
    assert.ok(TECHNIQUES[r.v19], r.v19);
  }
  assert.equal(currentId('T1070.002'), 'T1685.006');
  assert.equal(currentId('T1053.003'), 'T1053.003');
});

test('row sources are the collectors of the same name', () => {
  for (const [name, c] of Object.entries(ROW_SOURCES)) assert.equal(c.name, name);
});

test('rows that do not match their declaration, or are not JSON, are counted and never judged', () => {
  const d = new Detector();
  d.begin('processes', SEEN);
  d.offerLine('processes', '{"pid": "not a number", "exe": "/tmp/x"}');
  d.offerLine('processes', 'not json at all');
  d.offerLine('bodyfile', 'ignored: no rule reads bodyfile');
  const { findings, rejected } = d.finish();
  assert.deepEqual(findings, []);
  assert.deepEqual(rejected, { processes: 2 });
});

test('a rule keeps at most MAX_PER_RULE findings and says how many it dropped', () => {
  const rows = Array.from({ length: MAX_PER_RULE + 7 }, (_, i) => row('temp-files', { place: '/tmp', depth: 1, path: `/tmp/.x${i}`, type: 'file', mode: '-rwxr-xr-x', perm: '0755', hidden: true, contentKind: 'elf' }));
  const found = detect(rows);
  assert.equal(found.filter((f) => f.id === 'files.exec-hidden-in-temp').length, MAX_PER_RULE);
  const capped = found.find((f) => f.id === 'detect.capped');
  assert.deepEqual(capped?.evidence, { path: null, rule: 'files.exec-hidden-in-temp', kept: MAX_PER_RULE, dropped: 7 });
});

test('findings come out most severe first, in the same order whatever order the rows came in', () => {
  const rows = [
    row('accounts', { kind: 'account', file: '/etc/passwd', line: 3, name: 'toor', uid: 0 }),
    row('shell-history', { present: true, path: '/root/.bash_history', kind: 'file', empty: true, copied: true }),
    row('temp-files', { place: '/tmp', depth: 1, path: '/tmp/.a', type: 'file', mode: '-rwxr-xr-x', perm: '0755', hidden: true, contentKind: 'elf' }),
    row('temp-files', { place: '/tmp', depth: 1, path: '/tmp/.b', type: 'file', mode: '-rwxr-xr-x', perm: '0755', hidden: true, contentKind: 'elf' }),
  ];
  const forward = detect(rows);
  assert.deepEqual(
    forward.map((f) => f.severity),
    ['critical', 'high', 'high', 'medium'],
  );
  assert.deepEqual(detect([...rows].reverse()), forward);
});

test('one file seen by two collectors running side by side gives one finding, the same whichever came first', () => {
  const setuid = { depth: 1, path: '/tmp/sh', type: 'file' as const, mode: '-rwsr-xr-x', perm: '4755' };
  const rows = [row('temp-files', { place: '/tmp', ...setuid }), row('file-scan', { reasons: ['setuid' as const], ...setuid })];
  const forward = detect(rows).filter((f) => f.id === 'files.setid-temp-or-home');
  assert.equal(forward.length, 1);
  assert.equal(forward[0]!.collector, 'file-scan');
  assert.deepEqual(detect([...rows].reverse()).filter((f) => f.id === 'files.setid-temp-or-home'), forward);
});

test('a rule that builds a finding outside the contract is counted, not written', () => {
  const broken = rowRule<'accounts'>({
    id: 'test.broken',
    title: 'x',
    severity: 'low',
    attack: [],
    description: 'x',
    falsepositives: [],
    references: [],
    reads: ['accounts'],
    match: () => ({ evidence: { path: '/etc/passwd', line: 0 } }),
  });
  const d = new Detector({ rules: [broken] });
  d.offerLine('accounts', JSON.stringify(row('accounts', { kind: 'account', file: '/etc/passwd' }).row));
  assert.deepEqual(d.finish(), { findings: [], rejected: { 'rule test.broken': 1 } });
});

test('a rule that throws costs its own judgement only: the other rules run and the failure is reported', () => {
  const throwing = rowRule<'accounts'>({
    id: 'test.throws',
    title: 'x',
    severity: 'low',
    attack: [],
    description: 'x',
    falsepositives: [],
    references: [],
    reads: ['accounts'],
    match: () => {
      throw new Error('boom');
    },
  });
  const told: string[] = [];
  const d = new Detector({ rules: [throwing, ...RULES], onError: (where, message) => told.push(`${where}: ${message}`) });
  d.offerLine('accounts', JSON.stringify(row('accounts', { kind: 'account', file: '/etc/passwd', name: 'toor', uid: 0 }).row));
  const { findings, rejected } = d.finish();
  assert.deepEqual(told, ['rule test.throws: boom']);
  assert.deepEqual(rejected, { 'rule test.throws': 1 });
  assert.deepEqual(
    findings.map((x) => x.id),
    ['accounts.uid0-extra'],
  );
});

const f = (id: string, severity: Finding['severity'], extra: Partial<Finding> = {}): Finding => ({ id, severity, title: id, attack: [], collector: 'x', evidence: { path: `/p/${id}` }, pid: null, ts: null, ...extra });

test('verdict policy: critical or two high rules → compromised; one high or two medium rules → suspicious; else clean', () => {
  const cases: [Finding[], Verdict['verdict']][] = [
    [[], 'clean'],
    [[f('a.b', 'low'), f('a.c', 'info'), f('a.d', 'medium')], 'clean'],
    [[f('a.d', 'medium'), f('a.d', 'medium', { evidence: { path: '/other' } })], 'clean'],
    [[f('a.d', 'medium'), f('a.e', 'medium')], 'suspicious'],
    [[f('a.h', 'high')], 'suspicious'],
    [[f('a.h', 'high'), f('a.h', 'high', { pid: 3 })], 'suspicious'],
    [[f('a.h', 'high'), f('a.i', 'high')], 'compromised'],
    [[f('a.c', 'critical')], 'compromised'],
  ];
  for (const [findings, expected] of cases) {
    const v = verdictOf(findings);
    assert.equal(v.verdict, expected, JSON.stringify(findings.map((x) => x.id)));
    Verdict.parse(v);
    assert.equal(v.policy, VERDICT_POLICY);
  }
  const v = verdictOf([f('a.c', 'critical', { pid: 7 }), f('a.h', 'high'), f('a.m', 'medium')], true);
  assert.deepEqual(
    v.reasons.map((r) => [r.id, r.subject]),
    [
      ['a.c', 'pid 7 (/p/a.c)'],
      ['a.h', '/p/a.h'],
    ],
  );
  assert.deepEqual(v.counts, { info: 0, low: 0, medium: 1, high: 1, critical: 1 });
  assert.equal(v.partial, true);
});

test('the terminal summary shows the verdict and high findings first, with host strings made safe', () => {
  const findings = [f('process.hidden', 'critical', { pid: 9, evidence: { path: '/tmp/\u001b]0;owned\u0007x' } }), f('a.m', 'medium')];
  const lines = summaryLines(findings, verdictOf(findings));
  assert.match(lines[0]!, /^verdict: COMPROMISED — 1 critical, 0 high, 1 medium/);
  assert.equal(lines.length, 2, 'medium findings are left to findings.jsonl');
  assert.ok(lines[1]!.includes('pid 9 /tmp/\\x1b]0;owned\\x07x'), lines[1]);
  assert.ok(!lines.join('').includes('\u001b'));
});

test('after the logs collector, each copied auth, syslog or web log is streamed to the log analysis, and its findings join the rest', async () => {
  const failures = Array.from({ length: 12 }, (_, i) => `Nov 22 01:00:${String(i).padStart(2, '0')} web01 sshd[900]: Failed password for root from 203.0.113.50 port ${40000 + i} ssh2\n`).join('');
  const accepted = 'Nov 22 01:01:00 web01 sshd[901]: Accepted password for root from 203.0.113.50 port 41000 ssh2\n';
  const content: Record<string, Buffer> = { '/var/log/auth.log.2.gz': gzipSync(failures), '/var/log/auth.log': Buffer.from(accepted) };
  const log = (p: string, f: Record<string, unknown> = {}) => row('logs', { path: p, category: 'auth', kind: 'file', targetKind: 'file', copied: true, mtime: '2026-11-22T02:00:00Z', ...f }).row;
  const opened: string[] = [];
  const facts: LogHostFacts[] = [];
  const d = new Detector({
    logs: {
      create: (f) => (facts.push(f), createLogAnalysis(f)),
      open: async (r) => {
        opened.push(r.path);
        const bytes = content[r.path];
        return bytes
          ? (async function* () {
              yield bytes;
            })()
          : null;
      },
    },
  });
  for (const c of ['system', 'logs']) d.begin(c, SEEN);
  d.offer('system', row('system', { timezone: 'Etc/UTC', collectedAt: SEEN }).row);
  d.offer('logs', log('/var/log/auth.log.2.gz', { compression: 'gzip' }));
  d.offer('logs', log('/var/log/auth.log'));
  d.offer('logs', log('/var/log/auth.log.3.xz', { compression: 'xz' }));
  d.offer('logs', log('/var/log/btmp-like', { copied: false }));
  d.offer('logs', log('journalctl --output=export', { category: 'journal-export', targetKind: null }));
  d.offer('logs', log('/var/log/dpkg.log', { category: 'packages' }));
  await d.ended('logs');
  assert.deepEqual(opened, ['/var/log/auth.log.2.gz', '/var/log/auth.log']);
  assert.deepEqual(facts, [{ timeZone: 'Etc/UTC', now: new Date(SEEN) }]);
  const { findings, rejected } = d.finish();
  assert.deepEqual(rejected, {});
  const success = findings.find((f) => f.id === 'logs.auth.ssh-success-after-failures');
  assert.ok(success, JSON.stringify(findings.map((f) => f.id)));
  assert.equal(success.evidence.path, '/var/log/auth.log');
});

test('in a triage the journal export the logs collector ran is analysed from its output: a forged sshd entry is found', async () => {
  const command = 'journalctl -o export --no-pager --since=-7d';
  const exported = readFileSync(path.join(PROJECT, 'test/fixtures/detect-logs/journal.export'));
  const fromHost: string[] = [];
  const feed = triageLogFeed(createLogAnalysis, async (r) => {
    fromHost.push(r.path);
    return null;
  });
  const d = new Detector({ logs: feed });
  for (const c of ['system', 'logs']) d.begin(c, SEEN);
  d.offer('system', row('system', { timezone: 'Etc/UTC', collectedAt: SEEN }).row);
  d.toolOutput('logs', 'journalctl --list-boots', Buffer.from('not an export'));
  d.toolOutput('logs', command, exported);
  d.toolOutput('firewall', command, Buffer.from('another collector\'s output is never kept'));
  const logRow = (p: string, f: Record<string, unknown>) => row('logs', { path: p, kind: 'file', copied: true, mtime: null, ...f }).row;
  d.offer('logs', logRow(command, { category: 'journal-export', targetKind: null, bytesCopied: exported.length }));
  d.offer('logs', logRow('/var/log/auth.log', { category: 'auth', targetKind: 'file', bytesCopied: 10 }));
  await d.ended('logs');
  assert.deepEqual(fromHost, ['/var/log/auth.log'], 'files are read again from the host, the export never');
  const { findings, rejected } = d.finish();
  assert.deepEqual(rejected, {});
  const forged = findings.find((f) => f.id === 'logs.auth.forged-sshd');
  assert.ok(forged, JSON.stringify(findings.map((f) => f.id)));
  assert.equal(forged.evidence.path, command);
  assert.equal(await feed.open(logRow(command, { category: 'journal-export', targetKind: null, bytesCopied: exported.length }) as Parameters<typeof feed.open>[0]), null, 'the output is handed over once, then let go');
});

test('findings made outside the rules (the IOC log matcher, YARA) are recorded under their rule info, and invalid ones counted', () => {
  const d = new Detector({ rules: [] });
  d.begin('temp-files', SEEN);
  d.addHits(YARA_RULE, [{ evidence: { path: '/tmp/.x/kworkerd', rule: 'miner' }, collector: 'temp-files' }, { evidence: { path: '/tmp/y', line: 0 } }], 'temp-files');
  const { findings, rejected } = d.finish();
  assert.deepEqual(findings, [{ id: 'yara.match', severity: 'high', title: YARA_RULE.title, attack: [], collector: 'temp-files', evidence: { path: '/tmp/.x/kworkerd', rule: 'miner' }, pid: null, ts: SEEN }]);
  assert.deepEqual(rejected, { 'rule yara.match': 1 });
});

async function* chunked(b: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield Buffer.from(b.subarray(i, i + size));
}

async function drain(it: AsyncIterable<Uint8Array>, stopAfter = Infinity): Promise<Buffer> {
  const got: Buffer[] = [];
  for await (const c of it) {
    got.push(Buffer.from(c));
    if (got.length >= stopAfter) break;
  }
  return Buffer.concat(got);
}

test('tapLines passes the bytes through unchanged and gives the lines of plain and gzipped content to the side, numbered', async () => {
  const text = Array.from({ length: 3000 }, (_, i) => `line ${i + 1} from 203.0.113.${i % 250}`).join('\n');
  for (const bytes of [Buffer.from(text), gzipSync(text)]) {
    const lines: [number, string][] = [];
    const tap = tapLines(chunked(bytes, 1000), (t, n) => lines.push([n, t]));
    assert.ok((await drain(tap.chunks)).equals(bytes));
    await tap.done;
    assert.equal(lines.length, 3000);
    assert.deepEqual(lines[2999], [3000, 'line 3000 from 203.0.113.249']);
    assert.ok(lines.every(([n, t]) => t === `line ${n} from 203.0.113.${(n - 1) % 250}`));
  }
});

test('tapLines: a reader that stops early ends the side too, with the lines it was given', async () => {
  const lines: number[] = [];
  const tap = tapLines(chunked(Buffer.from('a\nb\nc\nd\n'), 2), (_t, n) => lines.push(n));
  await drain(tap.chunks, 2);
  await tap.done;
  assert.deepEqual(lines, [1, 2]);
});

test('the log lines the analysis reads are also given to logLines, from the same read', async () => {
  const opened: string[] = [];
  const seen: string[] = [];
  const d = new Detector({
    logs: {
      create: createLogAnalysis,
      open: async (r) => {
        opened.push(r.path);
        return chunked(gzipSync('Nov 22 01:00:00 web01 sshd[1]: Connection closed by 198.51.100.9 port 22\nsecond\n'), 7);
      },
    },
    logLines: (text, at) => seen.push(`${at.path}:${at.line}:${text}`),
  });
  for (const c of ['system', 'logs']) d.begin(c, SEEN);
  d.offer('logs', row('logs', { path: '/var/log/auth.log.2.gz', category: 'auth', kind: 'file', targetKind: 'file', copied: true, compression: 'gzip', mtime: SEEN }).row);
  await d.ended('logs');
  assert.deepEqual(opened, ['/var/log/auth.log.2.gz']);
  assert.deepEqual(seen, ['/var/log/auth.log.2.gz:1:Nov 22 01:00:00 web01 sshd[1]: Connection closed by 198.51.100.9 port 22', '/var/log/auth.log.2.gz:2:second']);
});
