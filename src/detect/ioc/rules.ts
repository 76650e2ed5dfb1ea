import { joinRule, type DetectContext, type Rule, type RuleInfo } from '../rule.js';
import type { Tagged } from '../rows.js';
import { parseAddress, isUnspecified } from './address.js';
import { Aggregate, indicatorEvidence } from './aggregate.js';
import type { IndicatorKind } from './indicator.js';
import type { IndicatorSet } from './indicator-set.js';
import { matchText, type Match } from './match.js';
import { OBSERVED, observe, type Observation } from './observe.js';

export type IocRuleId = 'ioc.hash.process' | 'ioc.hash' | 'ioc.address' | 'ioc.domain' | 'ioc.url' | 'ioc.filename';

const SHARED = {
  references: ['https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html'],
} as const;

/** The rules of --ioc, as data; docs and the log matcher use the same entries. */
export const IOC_RULES: Readonly<Record<IocRuleId, Omit<RuleInfo, 'id'>>> = {
  'ioc.hash.process': {
    title: 'a running process is a known-bad executable (IOC hash)',
    severity: 'critical',
    attack: [],
    description:
      'The SHA-256 of a running process\'s executable, read through /proc/PID/exe, is on the indicator list given with --ioc: known malware is running now. Acquire its memory (goldhour memory --pid PID) and copy its executable before anything else, record its sockets, parent and start time, then contain it and look for the way it was started (persistence findings, logins before its start time).',
    falsepositives: ['an indicator list that lists a legitimate binary (a feed\'s mistake, or a dual-use tool the list flags); check the origin and label in the finding'],
    ...SHARED,
  },
  'ioc.hash': {
    title: 'a file on the host has a known-bad hash (IOC)',
    severity: 'high',
    attack: [],
    description:
      'A file\'s SHA-256 (or, for a packaged file that changed, its MD5) is on the indicator list given with --ioc, or a command or log line quotes such a hash. Copy the file into the evidence before removing it, see who owns it, when it was written (mtime, ctime) and whether a process runs it or a persistence entry names it.',
    falsepositives: ['an indicator list that lists a legitimate file'],
    ...SHARED,
  },
  'ioc.address': {
    title: 'connection, login or command involving a known-bad address (IOC)',
    severity: 'high',
    attack: ['T1071'],
    description:
      'An address on the --ioc list (or inside a listed network) is a peer or local address of a socket, the source of a login, or appears in a command line, a persistence entry or a log line. A live connection to it is likely command and control or exfiltration: record the process holding it, capture traffic (goldhour pcap --filter "host ADDRESS") before blocking it, and search the logs for the first time it appears.',
    falsepositives: ['broad networks on the list (cloud or CDN ranges) that legitimate services share', 'addresses reused after the feed listed them'],
    ...SHARED,
  },
  'ioc.domain': {
    title: 'a known-bad domain (or one of its subdomains) is named on the host (IOC)',
    severity: 'high',
    attack: ['T1071'],
    description:
      'A domain on the --ioc list, or a subdomain of it, appears in a command line, a persistence entry, a login record or a log line. Domains in a cron job or a unit usually fetch the next stage; in web or mail logs they may be a lookup the host made. Read the whole line in the evidence, resolve what the domain pointed to at the time from DNS logs, and look for the processes and files it delivered.',
    falsepositives: ['a listed domain that is also used legitimately (shared hosting, URL shorteners, paste sites)'],
    ...SHARED,
  },
  'ioc.url': {
    title: 'a known-bad URL is named on the host (IOC)',
    severity: 'high',
    attack: ['T1105'],
    description:
      'A URL on the --ioc list appears (after normalising scheme and host case, default port and trailing slash) in a command line, a persistence entry or a log line: the host fetched or was told to fetch something known to be malicious. Find what was downloaded (temp directories, the process list, the file named in the URL), copy it, and remove the entry that fetches it after preserving it.',
    falsepositives: ['a URL quoted in a log because someone else requested it from this web server (read the log line: who asked for what)'],
    ...SHARED,
  },
  'ioc.filename': {
    title: 'a file or process has a known-bad name (IOC)',
    severity: 'high',
    attack: ['T1036.005'],
    description:
      'A file, an executable or a word of a command line has a name (or absolute path) on the --ioc list. Names are weak indicators on their own: compare the file\'s hash with the feed, read the rest of the finding (owner, place, parent process), and copy the file before judging it.',
    falsepositives: ['common names on the list (update.sh, run, x) that legitimate software uses too'],
    ...SHARED,
  },
};

export function ruleIdOf(kind: IndicatorKind, runningExe = false): IocRuleId {
  switch (kind) {
    case 'md5':
    case 'sha1':
    case 'sha256':
      return runningExe ? 'ioc.hash.process' : 'ioc.hash';
    case 'ip':
    case 'cidr':
      return 'ioc.address';
    case 'domain':
      return 'ioc.domain';
    case 'url':
      return 'ioc.url';
    case 'filename':
    case 'path':
      return 'ioc.filename';
  }
}

interface Found {
  obs: Observation;
  match: Match;
  rule: IocRuleId;
}

/** Every indicator an observation names. */
export function matchObservation(set: IndicatorSet, obs: Observation): Found[] {
  const out: Found[] = [];
  const push = (match: Match) => out.push({ obs, match, rule: ruleIdOf(match.indicator.kind, obs.runningExe) });
  for (const h of obs.hashes) {
    const ind = h ? set.hash(h) : undefined;
    if (ind) push({ indicator: ind, matched: h!.toLowerCase() });
  }
  for (const f of obs.files) {
    const ind = f ? set.file(f) : undefined;
    if (ind) push({ indicator: ind, matched: f! });
  }
  for (const a of obs.addresses) {
    const addr = a ? parseAddress(a) : null;
    const ind = addr && !isUnspecified(addr) ? set.address(addr) : undefined;
    if (ind) push({ indicator: ind, matched: a! });
  }
  for (const t of obs.texts) if (t) for (const m of matchText(set, t)) push(m);
  return out;
}

/**
 * The rules of --ioc over the indicators loaded, one per kind of indicator,
 * each reading every collector whose rows name hashes, files, addresses or
 * commands. A row is matched once for all six rules (the Detector hands each
 * rule the same row object), and each rule keeps one finding per indicator
 * and place.
 */
export function iocRules(indicators: IndicatorSet): Rule[] {
  const cache = new WeakMap<Tagged, Found[]>();
  const found = (t: Tagged, ctx: DetectContext): Found[] => {
    let f = cache.get(t);
    if (!f) {
      f = observe(t, ctx).flatMap((o) => matchObservation(indicators, o));
      cache.set(t, f);
    }
    return f;
  };
  return (Object.keys(IOC_RULES) as IocRuleId[]).map((id) =>
    joinRule<Aggregate>({
      id,
      ...IOC_RULES[id],
      reads: OBSERVED,
      start: () => new Aggregate(),
      row: (agg, t, ctx) => {
        // one row is one sighting of an indicator at a place, however many of its columns name it
        const counted = new Set<string>();
        for (const f of found(t, ctx)) {
          if (f.rule !== id) continue;
          const once = `${f.match.indicator.kind}\0${f.match.indicator.value}\0${f.obs.key}`;
          if (counted.has(once)) continue;
          counted.add(once);
          agg.add(f.match.indicator, f.obs.key, () => ({
            evidence: { ...f.obs.evidence, ...indicatorEvidence(f.match), field: f.obs.field },
            pid: f.obs.pid ?? null,
            ts: f.obs.ts ?? null,
            collector: t.source,
          }));
        }
      },
      finish: (agg) => agg.hits(),
    }),
  );
}
