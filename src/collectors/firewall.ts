import { z } from 'zod';
import { defineCollector, type CollectorContext } from './collector.js';

const Row = z.object({
  origin: z.enum(['kernel', 'file']).describe('kernel: the ruleset loaded now, as the listed program printed it; file: a persisted ruleset that is loaded at boot'),
  source: z.string().describe('the program (nft, iptables-save…) or the file the row came from'),
  syntax: z.enum(['nft', 'iptables']).describe('nft (nftables) or iptables (iptables-save / iptables-restore format)'),
  kind: z
    .enum(['table', 'chain', 'rule', 'set', 'map', 'flowtable', 'object', 'element', 'statement'])
    .describe('table, chain (with hook and policy), rule, set or map declaration, element (a line inside a set or map), flowtable, object (named counter, quota…), statement (anything else: flush, include, define…)'),
  family: z.string().nullable().describe('nft family (ip, ip6, inet, arp, bridge, netdev); ip or ip6 for iptables'),
  table: z.string().nullable().describe('table name (filter, nat, mangle, raw…)'),
  chain: z.string().nullable().describe('chain the rule belongs to, or the chain a chain row declares'),
  hook: z.string().nullable().describe('nft base chain hook (input, output, forward, prerouting, postrouting, ingress)'),
  policy: z.string().nullable().describe('chain policy (accept, drop; ACCEPT, DROP); a drop-all INPUT policy with a narrow accept list is normal, an ACCEPT policy with no rules means no firewall'),
  handle: z.number().int().nullable().describe('nft object handle (from nft -a)'),
  packets: z.number().nullable().describe('packet counter of the rule or chain, when the ruleset keeps one (iptables-save -c, nft counter)'),
  bytes: z.number().nullable().describe('byte counter of the rule or chain, when kept'),
  text: z.string().describe('the line as written, without surrounding blanks; for an nft base chain, its declaration followed by its type/hook/priority/policy line'),
  line: z.number().int().describe('line number in the program output or file'),
});

type FwRow = z.infer<typeof Row>;
export type FirewallEntry = Omit<FwRow, 'origin' | 'source' | 'syntax'>;

/** Persisted rulesets of Debian, RHEL and Ubuntu (ufw) hosts, with their syntax. */
const RULE_FILES: [string, FwRow['syntax']][] = [
  ['/etc/nftables.conf', 'nft'],
  ['/etc/sysconfig/nftables.conf', 'nft'],
  ['/etc/iptables/rules.v4', 'iptables'],
  ['/etc/iptables/rules.v6', 'iptables'],
  ['/etc/sysconfig/iptables', 'iptables'],
  ['/etc/sysconfig/ip6tables', 'iptables'],
  ['/etc/ufw/before.rules', 'iptables'],
  ['/etc/ufw/before6.rules', 'iptables'],
  ['/etc/ufw/after.rules', 'iptables'],
  ['/etc/ufw/after6.rules', 'iptables'],
  ['/etc/ufw/user.rules', 'iptables'],
  ['/etc/ufw/user6.rules', 'iptables'],
];
const NFT_DIRS = ['/etc/nftables', '/etc/nftables.d'];

export const firewallCollector = defineCollector({
  name: 'firewall',
  title: 'Firewall rules',
  description:
    'The packet filter loaded in the kernel now (nftables through `nft -a list ruleset`; where nft is missing, ' +
    '`iptables-save -c` and `ip6tables-save -c`; legacy x_tables tables through iptables-legacy-save when loaded), and ' +
    'the rulesets persisted for boot (/etc/nftables.conf, /etc/iptables/rules.v4|v6, /etc/sysconfig/iptables, ufw), one ' +
    'row a table, chain, rule or set line. The programs used are recorded with their SHA-256 and their output is kept; ' +
    'raw copies of the files are kept. Look for accept rules for one outside address or an odd port (an intruder\'s ' +
    'way back in), NAT or redirect rules that divert traffic, rules that drop the traffic of security tools or log ' +
    'shipping, and differences between what is loaded and what is persisted.',
  preconditions:
    'The loaded ruleset needs a live host, root, and nft or iptables-save installed in a system directory (this is the ' +
    'one place goldhour runs a program: the kernel\'s netlink interface has no /proc view). Persisted rulesets work on ' +
    'an image (--root). The ruleset is that of goldhour\'s own network namespace; other namespaces are not read.',
  timeoutMs: 60_000,
  row: Row,
  async *collect(ctx) {
    if (ctx.host.live) yield* liveRuleset(ctx);
    for (const [file, syntax] of RULE_FILES) yield* ruleFile(ctx, file, syntax);
    for (const dir of NFT_DIRS) {
      let names: string[];
      try {
        names = await ctx.host.readdir(dir);
      } catch {
        continue;
      }
      for (const name of names.filter((n) => n.endsWith('.nft') || n.endsWith('.conf')).sort()) yield* ruleFile(ctx, `${dir}/${name}`, 'nft');
    }
  },
});

async function* liveRuleset(ctx: CollectorContext): AsyncGenerator<FwRow> {
  const ran = new Set<string>();
  const run = async function* (program: string, args: string[], syntax: FwRow['syntax'], family: string | null): AsyncGenerator<FwRow> {
    const r = await ctx.runTool(program, args, { purpose: 'read the packet filter ruleset loaded in the kernel' });
    if (!r) return;
    ran.add(program);
    if (r.exitCode !== 0) {
      const why = r.stderr.toString('utf8').trim().split('\n')[0] ?? '';
      ctx.error(r.path, 'ETOOL', `${program} exited with ${r.exitCode ?? 'a signal'}${why ? `: ${why}` : ''}`);
    }
    const text = r.stdout.toString('utf8');
    const entries = syntax === 'nft' ? parseNftRuleset(text) : parseIptablesSave(text, family ?? 'ip');
    for (const e of entries) yield withOrigin('kernel', program, syntax, e);
  };
  yield* run('nft', ['-a', 'list', 'ruleset'], 'nft', null);
  if (!ran.has('nft')) {
    yield* run('iptables-save', ['-c'], 'iptables', 'ip');
    yield* run('ip6tables-save', ['-c'], 'iptables', 'ip6');
  }
  // Legacy x_tables rules live beside nftables and are invisible to nft.
  for (const [names, legacy, plain, family] of [
    ['net/ip_tables_names', 'iptables-legacy-save', 'iptables-save', 'ip'],
    ['net/ip6_tables_names', 'ip6tables-legacy-save', 'ip6tables-save', 'ip6'],
  ] as const) {
    const loaded = await ctx.readProc(names, { keep: true });
    if (!loaded || loaded.data.toString('utf8').trim() === '') continue;
    const before = ran.size;
    yield* run(legacy, ['-c'], 'iptables', family);
    if (ran.size === before && !ran.has(plain)) yield* run(plain, ['-c'], 'iptables', family);
  }
  if (ran.size === 0) ctx.error(null, 'ENOTOOL', 'neither nft nor iptables-save is installed in a system directory: the loaded ruleset was not read');
}

async function* ruleFile(ctx: CollectorContext, file: string, syntax: FwRow['syntax']): AsyncGenerator<FwRow> {
  const read = await ctx.read(file, { maxBytes: 64 * 1024 * 1024 });
  if (!read) return;
  const text = read.data.toString('utf8');
  const family = file.includes('6') ? 'ip6' : 'ip';
  const entries = syntax === 'nft' ? parseNftRuleset(text) : parseIptablesSave(text, family);
  for (const e of entries) yield withOrigin('file', file, syntax, e);
}

// ---------------------------------------------------------------------------
// Parsers (pure)

/** Built property by property, never by spreading (which is slow in V8 for wide objects). */
function entry(kind: FirewallEntry['kind'], text: string, line: number, o: Partial<FirewallEntry> = {}): FirewallEntry {
  return {
    kind,
    family: o.family ?? null,
    table: o.table ?? null,
    chain: o.chain ?? null,
    hook: o.hook ?? null,
    policy: o.policy ?? null,
    handle: o.handle ?? null,
    packets: o.packets ?? null,
    bytes: o.bytes ?? null,
    text,
    line,
  };
}

function withOrigin(origin: FwRow['origin'], source: string, syntax: FwRow['syntax'], e: FirewallEntry): FwRow {
  return {
    origin,
    source,
    syntax,
    kind: e.kind,
    family: e.family,
    table: e.table,
    chain: e.chain,
    hook: e.hook,
    policy: e.policy,
    handle: e.handle,
    packets: e.packets,
    bytes: e.bytes,
    text: e.text,
    line: e.line,
  };
}

function eachTrimmedLine(text: string, fn: (t: string, n: number) => void): void {
  let start = 0;
  let n = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    n++;
    const t = text.slice(start, end).trim();
    start = end + 1;
    if (t !== '') fn(t, n);
  }
}

function words(s: string): string[] {
  return s.split(/[ \t]+/).filter(Boolean);
}

/** "[packets:bytes]" → numbers, or null. */
function counterPair(s: string): { packets: number; bytes: number } | null {
  if (!s.startsWith('[') || !s.endsWith(']')) return null;
  const colon = s.indexOf(':');
  if (colon < 0) return null;
  const packets = Number(s.slice(1, colon));
  const bytes = Number(s.slice(colon + 1, -1));
  return Number.isSafeInteger(packets) && Number.isSafeInteger(bytes) && packets >= 0 && bytes >= 0 ? { packets, bytes } : null;
}

/**
 * iptables-save output and iptables-restore files: "*table", ":CHAIN POLICY
 * [pkts:bytes]", "[pkts:bytes] -A CHAIN …" or "-A CHAIN …", "COMMIT".
 */
export function parseIptablesSave(text: string, family: string): FirewallEntry[] {
  const out: FirewallEntry[] = [];
  let table: string | null = null;
  eachTrimmedLine(text, (t, n) => {
    if (t.startsWith('#') || t === 'COMMIT') return;
    if (t.startsWith('*')) {
      table = t.slice(1).trim();
      out.push(entry('table', t, n, { family, table }));
      return;
    }
    if (t.startsWith(':')) {
      const w = words(t.slice(1));
      const c = w[2] ? counterPair(w[2]) : null;
      out.push(entry('chain', t, n, { family, table, chain: w[0] ?? null, policy: w[1] && w[1] !== '-' ? w[1] : null, packets: c?.packets ?? null, bytes: c?.bytes ?? null }));
      return;
    }
    let rest = t;
    let c: { packets: number; bytes: number } | null = null;
    if (t.startsWith('[')) {
      const close = t.indexOf(']');
      c = close > 0 ? counterPair(t.slice(0, close + 1)) : null;
      rest = close > 0 ? t.slice(close + 1).trim() : t;
    }
    const w = words(rest);
    if ((w[0] === '-A' || w[0] === '-I') && w[1]) {
      out.push(entry('rule', t, n, { family, table, chain: w[1], packets: c?.packets ?? null, bytes: c?.bytes ?? null }));
      return;
    }
    if ((w[0] === '-N' || w[0] === '-P') && w[1]) {
      out.push(entry('chain', t, n, { family, table, chain: w[1], policy: w[0] === '-P' ? (w[2] ?? null) : null }));
      return;
    }
    out.push(entry('statement', t, n, { family, table }));
  });
  return out;
}

const NFT_FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const NFT_OBJECTS = new Set(['counter', 'quota', 'limit', 'secmark', 'synproxy', 'ct']);

/** Splits off a trailing "# …" comment that is outside quotes. */
function splitComment(t: string): { code: string; comment: string | null } {
  let quoted = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return { code: t.slice(0, i).trim(), comment: t.slice(i + 1).trim() };
  }
  return { code: t, comment: null };
}

function braceDelta(code: string): number {
  let d = 0;
  let quoted = false;
  for (const c of code) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') d++;
    else if (!quoted && c === '}') d--;
  }
  return d;
}

function handleOf(comment: string | null): number | null {
  if (!comment) return null;
  const i = comment.indexOf('handle ');
  if (i < 0) return null;
  const v = Number(words(comment.slice(i + 7))[0]);
  return Number.isSafeInteger(v) ? v : null;
}

function nftCounter(code: string): { packets: number; bytes: number } | null {
  const i = code.indexOf('counter packets ');
  if (i < 0) return null;
  const w = words(code.slice(i + 16));
  const packets = Number(w[0]);
  const bytes = w[1] === 'bytes' ? Number(w[2]) : NaN;
  return Number.isSafeInteger(packets) && Number.isSafeInteger(bytes) ? { packets, bytes } : null;
}

interface NftBlock {
  type: string;
  name: string | null;
  entry: FirewallEntry | null;
}

/**
 * `nft list ruleset` output and nft scripts (/etc/nftables.conf): table, chain,
 * set, map, flowtable and named-object blocks, the rules inside chains, and
 * top-level statements (flush ruleset, add rule …, include, define).
 */
export function parseNftRuleset(text: string): FirewallEntry[] {
  const out: FirewallEntry[] = [];
  const stack: NftBlock[] = [];
  let family: string | null = null;
  let table: string | null = null;
  let anon = 0; // depth of an unnamed { … } spanning lines (elements = { …)
  let anonKind: FirewallEntry['kind'] = 'element';
  const current = () => stack[stack.length - 1] ?? null;
  const chainName = () => [...stack].reverse().find((b) => b.type === 'chain')?.name ?? null;
  const base = (kind: FirewallEntry['kind'], t: string, n: number, handle: number | null, o: Partial<FirewallEntry> = {}): FirewallEntry =>
    entry(kind, t, n, Object.assign({ family, table, chain: chainName(), handle }, o));

  eachTrimmedLine(text, (t, n) => {
    if (t.startsWith('#')) return;
    const { code, comment } = splitComment(t);
    if (code === '') return;
    const handle = handleOf(comment);
    const delta = braceDelta(code);
    if (anon > 0) {
      out.push(base(anonKind, t, n, handle));
      anon += delta;
      if (anon < 0) {
        // the line closed the anonymous brace and the block around it
        for (let k = anon; k < 0; k++) popBlock();
        anon = 0;
      }
      return;
    }
    if (code.startsWith('}')) {
      for (let k = delta; k < 0; k++) popBlock();
      return;
    }
    const w = words(code);
    const head = w[0]!;
    if (code.endsWith('{') && delta === 1) {
      if (head === 'table') {
        const named = w.length >= 4 && NFT_FAMILIES.has(w[1]!);
        family = named ? w[1]! : 'ip';
        table = named ? w[2]! : (w[1] ?? null);
        const e = entry('table', t, n, { family, table, handle });
        out.push(e);
        stack.push({ type: 'table', name: table, entry: e });
        return;
      }
      if (head === 'chain' || head === 'set' || head === 'map' || head === 'flowtable' || NFT_OBJECTS.has(head)) {
        const name = head === 'ct' ? (w[2] ?? null) : (w[1] ?? null);
        const kind: FirewallEntry['kind'] = head === 'chain' || head === 'set' || head === 'map' || head === 'flowtable' ? head : 'object';
        const e = base(kind, t, n, handle, { chain: head === 'chain' ? name : chainName() });
        out.push(e);
        stack.push({ type: head, name, entry: e });
        return;
      }
    }
    const inside = current();
    if (delta > 0) {
      // a brace opened and left open: the lines up to its close belong to this one
      anonKind = inside?.type === 'chain' ? 'rule' : inside && inside.type !== 'table' ? 'element' : 'statement';
      anon = delta;
    }
    if (inside?.type === 'chain') {
      if (head === 'type' || head === 'policy') {
        const chain = inside.entry!;
        chain.text = `${chain.text} ${t}`;
        const hook = w.indexOf('hook');
        if (hook >= 0 && w[hook + 1]) chain.hook = w[hook + 1]!.replace(/;$/, '');
        const pol = w.indexOf('policy');
        if (pol >= 0 && w[pol + 1]) chain.policy = w[pol + 1]!.replace(/;$/, '');
        return;
      }
      const c = nftCounter(code);
      out.push(base('rule', t, n, handle, { packets: c?.packets ?? null, bytes: c?.bytes ?? null }));
      return;
    }
    if (inside && inside.type !== 'table') {
      out.push(base('element', t, n, handle));
      return;
    }
    out.push(statement(t, n, handle));
  });
  return out;

  function popBlock(): void {
    const b = stack.pop();
    if (b?.type === 'table') {
      family = null;
      table = null;
    }
  }

  /** Top-level script commands: "add rule [family] table chain …", "add table …", "flush ruleset". */
  function statement(t: string, n: number, handle: number | null): FirewallEntry {
    const w = words(splitComment(t).code);
    const verb = w[0];
    const what = w[1];
    if ((verb === 'add' || verb === 'insert' || verb === 'replace' || verb === 'create') && what && ['rule', 'chain', 'table', 'set', 'map'].includes(what)) {
      const named = NFT_FAMILIES.has(w[2] ?? '');
      const fam = named ? w[2]! : 'ip';
      const tbl = w[named ? 3 : 2] ?? null;
      const obj = w[named ? 4 : 3] ?? null;
      const kind = what as FirewallEntry['kind'];
      const c = what === 'rule' ? nftCounter(t) : null;
      return entry(kind, t, n, { family: fam, table: tbl, chain: what === 'rule' || what === 'chain' ? obj : null, handle, packets: c?.packets ?? null, bytes: c?.bytes ?? null });
    }
    return entry('statement', t, n, { family, table, handle });
  }
}
