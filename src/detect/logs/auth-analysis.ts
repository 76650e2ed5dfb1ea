import type { Finding } from '../finding.js';
import { authEvent, SSHD_TAGS, unrepeat, type AuthEvent } from './auth-events.js';
import {
  ACCOUNT_CHANGED,
  FORGED_SSHD,
  PRIVILEGED_ACCOUNT_CHANGE,
  SSH_BRUTE_FORCE,
  SSH_INVALID_USER,
  SSH_PASSWORD_SPRAYING,
  SSH_SUCCESS_AFTER_FAILURES,
  SSHD_LINE_WITHOUT_PID,
  SUDO_DENIED,
  SUDO_ROOT,
  USER_CREATED,
} from './auth-rules.js';
import { isoOf, type Clocks } from './clock.js';
import { Dedup, type SourceFamily } from './dedup.js';
import type { SyslogLine } from './syslog-line.js';
import type { LogAnalysisOptions } from './options.js';
import { clip, Tally, type Hit, type InputRef } from './tally.js';

/** Fixed-size ring of the latest failure times of one address in one input. */
class Ring {
  private readonly buf: Float64Array;
  private start = 0;
  len = 0;

  constructor(size: number) {
    this.buf = new Float64Array(size);
  }

  push(t: number): void {
    const size = this.buf.length;
    if (this.len < size) this.buf[(this.start + this.len++) % size] = t;
    else {
      this.buf[this.start] = t;
      this.start = (this.start + 1) % size;
    }
  }

  /** The k-th latest (1 = newest). */
  latest(k: number): number {
    return this.buf[(this.start + this.len - k) % this.buf.length]!;
  }

  countSince(t0: number): number {
    let n = 0;
    for (let k = 1; k <= this.len && this.latest(k) >= t0; k++) n++;
    return n;
  }

  /** The latest k, oldest first. */
  last(k: number): number[] {
    const out: number[] = [];
    for (let j = Math.min(k, this.len); j >= 1; j--) out.push(this.latest(j));
    return out;
  }
}

/**
 * The failures of one address within one input. Inside an input lines come in
 * time order, so windows are judged as lines arrive; across inputs (rotated
 * generations, the journal) they are stitched in finish() from the first and
 * the last K failure times each input kept, which is all a window of K or
 * fewer failures can reach across the boundary.
 */
interface Segment {
  input: InputRef;
  count: number;
  /** Failures with a time. */
  timed: number;
  head: number[];
  tail: Ring;
  /** The line at which the threshold was first reached inside this input. */
  burst: Hit | null;
  first: Hit;
  min: number;
  max: number;
}

interface Success {
  hit: Hit;
  user: string;
  method: string;
  /** Failures of this address in the same input within the lookback before it. */
  recentInInput: number;
}

/** Failures of a segment (so far) within [from, to]: exact when all of them are, else from the stored times (at least that many). */
function failuresWithin(seg: Segment, times: number[], min: number, max: number, from: number, to: number): number {
  if (min >= from && max <= to) return seg.count;
  return times.filter((t) => t >= from && t <= to).length;
}

interface AddressState {
  segments: Segment[];
  failures: number;
  /** Failed user names and their counts (distinct names capped). */
  users: Map<string, number>;
  successes: Success[];
}

/** Failed user names remembered per address, each cut to USER_MAX chars: enough to tell spraying, bounded whatever the log. */
const MAX_USERS = 64;
const USER_MAX = 64;
const MAX_SUCCESSES = 32;
const MAX_PIDS = 16_384;
/** Linux's largest pid_max. */
const PID_MAX = 4_194_304;
const PID_FAILED = 1;
const PID_INVALID = 2;

/** The journal export fields the auth rules read. */
export const JOURNAL_KEEP: ReadonlySet<string> = new Set(['MESSAGE', 'SYSLOG_IDENTIFIER', 'SYSLOG_PID', '_PID', '_UID', '_COMM', '_EXE', '__REALTIME_TIMESTAMP', '_SOURCE_REALTIME_TIMESTAMP']);

const isRoot = (user: string) => user === 'root' || user === '#0';

export class AuthAnalysis {
  private readonly k: number;
  private readonly addresses = new Map<string, AddressState>();
  untrackedAddresses = 0;
  private judged = false;
  private pids = new Map<number, number>();
  private oldPids = new Map<number, number>();
  private readonly dedup = new Dedup();
  private readonly tallies: Map<string, Tally>;

  constructor(
    private readonly o: LogAnalysisOptions,
    private readonly clocks: Clocks,
  ) {
    this.k = Math.max(o.bruteForceThreshold, o.successAfterFailures);
    const t = (rule: typeof SSH_BRUTE_FORCE, field: string) => [rule.id, new Tally(rule, field, o.maxSourcesPerRule)] as const;
    this.tallies = new Map([
      t(SSH_BRUTE_FORCE, 'address'),
      t(SSH_PASSWORD_SPRAYING, 'address'),
      t(SSH_INVALID_USER, 'address'),
      t(SSH_SUCCESS_AFTER_FAILURES, 'address'),
      t(FORGED_SSHD, 'writer'),
      t(SSHD_LINE_WITHOUT_PID, 'host'),
      t(SUDO_ROOT, 'user'),
      t(SUDO_DENIED, 'user'),
      t(USER_CREATED, 'account'),
      t(PRIVILEGED_ACCOUNT_CHANGE, 'account'),
      t(ACCOUNT_CHANGED, 'account'),
    ]);
  }

  private tally(rule: { id: string }): Tally {
    return this.tallies.get(rule.id)!;
  }

  /** A line of an auth or syslog file. */
  syslogLine(family: SourceFamily, l: SyslogLine, input: InputRef, line: number, text: string): void {
    if (SSHD_TAGS.has(l.tag) && l.pid === null) {
      this.tally(SSHD_LINE_WITHOUT_PID).get(l.host).hit({ input, t: input.clock.encodeText(l.time), line, text: clip(text) });
      return;
    }
    this.judge(family, l.tag, l.pid, l.message, input, line, text, l.time, Number.NaN);
  }

  /** One journal export entry: forged sshd entries are reported and kept out of the rest. */
  journalEntry(fields: Map<string, string>, hit: Hit): void {
    const tag = fields.get('SYSLOG_IDENTIFIER');
    // sudo indents its messages; syslog files lose the indent with the header, so the journal's copy does too
    const raw = fields.get('MESSAGE')?.trimStart();
    if (tag === undefined || raw === undefined) return;
    const pid = fields.get('SYSLOG_PID') ?? fields.get('_PID') ?? null;
    if (SSHD_TAGS.has(tag)) {
      const uid = fields.get('_UID');
      const comm = fields.get('_COMM');
      if ((uid !== undefined && uid !== '0') || (comm !== undefined && !SSHD_TAGS.has(comm))) {
        const a = this.tally(FORGED_SSHD).get(`uid=${uid ?? '?'} comm=${comm ?? '?'}`);
        a.hit(hit);
        a.facts.uid = uid ?? null;
        a.facts.comm = comm ?? null;
        const exe = fields.get('_EXE');
        if (exe !== undefined) a.list('exe', exe);
        this.dedup.markForged(tag, pid, unrepeat(raw).message);
        return;
      }
    }
    this.judge('journal', tag, pid, raw, hit.input, hit.line, hit.text, null, hit.t);
  }

  /**
   * Times are parsed (from timeText, else t is the time) only for the lines
   * that carry an event: most lines of a busy auth.log do not.
   */
  private judge(family: SourceFamily, tag: string, pid: string | null, raw: string, input: InputRef, line: number, text: string, timeText: string | null, t: number): void {
    const { message, times } = unrepeat(raw);
    const ev = authEvent(tag, message);
    if (!ev) return;
    if (!this.dedup.fresh(family, tag, pid, message)) return;
    this.event(ev, pid, { input, t: timeText === null ? t : input.clock.encodeText(timeText), line, text: clip(text) }, times);
  }

  /** A connection's key: sshd's pid within its input, kept a small integer (pids above pid_max only come from forged lines). */
  private pidFlags(hit: Hit, pid: string | null): { key: number; flags: number } {
    const key = ((pid === null ? 0 : Number(pid) % PID_MAX) || 0) * 64 + (hit.input.index % 64);
    return { key, flags: this.pids.get(key) ?? this.oldPids.get(key) ?? 0 };
  }

  private setPid(key: number, flags: number): void {
    this.pids.set(key, flags);
    // two generations instead of an LRU: a connection's lines come close together
    if (this.pids.size >= MAX_PIDS) {
      this.oldPids = this.pids;
      this.pids = new Map();
    }
  }

  private forgetPid(key: number): void {
    this.pids.delete(key);
    this.oldPids.delete(key);
  }

  private event(ev: AuthEvent, pid: string | null, hit: Hit, n: number): void {
    switch (ev.kind) {
      case 'failure': {
        const p = this.pidFlags(hit, pid);
        if (ev.invalid && !(p.flags & PID_INVALID)) this.invalidUser(ev.addr, ev.user, hit, n);
        this.setPid(p.key, p.flags | PID_FAILED | (ev.invalid ? PID_INVALID : 0));
        this.failure(ev.addr, ev.user, hit, n);
        return;
      }
      case 'preauth-close': {
        const p = this.pidFlags(hit, pid);
        if (ev.invalid && !(p.flags & PID_INVALID)) this.invalidUser(ev.addr, ev.user, hit, n);
        // a connection that failed without a "Failed …" line (keys offered and refused, a bot giving up) is one failure
        if (!(p.flags & PID_FAILED)) this.failure(ev.addr, ev.user, hit, n);
        this.forgetPid(p.key);
        return;
      }
      case 'invalid-user': {
        const p = this.pidFlags(hit, pid);
        this.invalidUser(ev.addr, ev.user, hit, n);
        this.setPid(p.key, p.flags | PID_INVALID);
        return;
      }
      case 'success':
        this.success(ev.addr, ev.user, ev.method, hit);
        return;
      case 'sudo': {
        if (ev.denied !== null) {
          const a = this.tally(SUDO_DENIED).get(ev.user);
          a.hit(hit, n);
          a.list('reasons', ev.denied);
          a.list('commands', ev.command);
        } else if (isRoot(ev.runas)) {
          const a = this.tally(SUDO_ROOT).get(ev.user);
          a.hit(hit, n);
          a.list('commands', ev.command);
        }
        return;
      }
      case 'su':
        if (isRoot(ev.target) || ev.targetUid === '0') {
          const a = this.tally(SUDO_ROOT).get(ev.user);
          a.hit(hit, n);
          a.list('commands', 'su');
        }
        return;
      case 'account': {
        const rule = ev.privileged ? PRIVILEGED_ACCOUNT_CHANGE : ev.action === 'user-created' ? USER_CREATED : ACCOUNT_CHANGED;
        const a = this.tally(rule).get(ev.account);
        a.hit(hit, n);
        a.list('changes', ev.action);
        if (ev.group !== null) a.list('groups', ev.group);
        if (ev.uid !== null) a.list('uids', ev.uid);
        if (ev.privileged && ev.action === 'user-created') {
          const created = this.tally(USER_CREATED).get(ev.account);
          created.hit(hit, n);
          created.list('uids', ev.uid ?? '');
        }
        return;
      }
    }
  }

  private invalidUser(addr: string, user: string, hit: Hit, n: number): void {
    const a = this.tally(SSH_INVALID_USER).get(addr);
    a.hit(hit, n);
    a.list('users', user);
  }

  private state(addr: string): AddressState | null {
    let s = this.addresses.get(addr);
    if (s) return s;
    if (this.addresses.size >= this.o.maxTrackedAddresses) {
      this.untrackedAddresses++;
      return null;
    }
    this.addresses.set(addr, (s = { segments: [], failures: 0, users: new Map(), successes: [] }));
    return s;
  }

  private segment(s: AddressState, hit: Hit): Segment {
    const last = s.segments[s.segments.length - 1];
    if (last && last.input === hit.input) return last;
    const seg: Segment = { input: hit.input, count: 0, timed: 0, head: [], tail: new Ring(this.k), burst: null, first: hit, min: Number.NaN, max: Number.NaN };
    s.segments.push(seg);
    return seg;
  }

  private failure(addr: string, user: string, hit: Hit, n: number): void {
    const s = this.state(addr);
    if (!s) return;
    s.failures += n;
    const name = user.length > USER_MAX ? clip(user.slice(0, USER_MAX)) : user;
    const u = s.users.get(name);
    if (u !== undefined) s.users.set(name, u + n);
    else if (s.users.size < Math.max(MAX_USERS, this.o.sprayUsers)) s.users.set(name, n);
    const seg = this.segment(s, hit);
    seg.count += n;
    const t = hit.t;
    if (Number.isNaN(t)) return;
    if (!(seg.min <= t)) seg.min = t;
    if (!(seg.max >= t)) seg.max = t;
    seg.timed += n;
    for (let i = 0; i < n && seg.head.length < this.k; i++) seg.head.push(t);
    for (let i = 0; i < Math.min(n, this.k); i++) seg.tail.push(t);
    const T = this.o.bruteForceThreshold;
    if (!seg.burst && seg.tail.len >= T && t - seg.tail.latest(T) <= this.o.bruteForceWindowMs) seg.burst = hit;
  }

  private success(addr: string, user: string, method: string, hit: Hit): void {
    const s = this.state(addr);
    if (!s || s.successes.length >= MAX_SUCCESSES) return;
    const seg = s.segments[s.segments.length - 1];
    let recent = 0;
    if (seg && seg.input === hit.input && !Number.isNaN(hit.t)) {
      // the ring holds the last K failures; when the whole segment so far lies in the lookback its count is exact
      const from = hit.t - this.o.successLookbackMs;
      recent = seg.min >= from ? seg.count : seg.tail.countSince(from);
    }
    s.successes.push({ hit, user, method, recentInInput: recent });
  }

  /** The stored failure times of a segment (each failure once), resolved. */
  private storedTimes(seg: Segment): number[] {
    const rest = Math.min(this.k, Math.max(0, seg.timed - seg.head.length));
    return [...seg.head, ...seg.tail.last(rest)].map((t) => this.clocks.resolve(seg.input.clock, t).ms);
  }

  private judgeAddress(addr: string, s: AddressState): void {
    const o = this.o;
    const resolved = s.segments.map((seg) => ({
      seg,
      times: this.storedTimes(seg),
      min: this.clocks.resolve(seg.input.clock, seg.min).ms,
      max: this.clocks.resolve(seg.input.clock, seg.max).ms,
    }));
    const cover = (a: ReturnType<Tally['get']>) => {
      for (const r of resolved) a.cover(r.seg.input, r.seg.min, r.seg.max, r.seg.first);
      a.count += s.failures;
      a.facts.distinctUsers = s.users.size;
      if (s.users.size >= MAX_USERS) a.facts.distinctUsersAtLeast = true;
      for (const u of [...s.users.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10)) a.list('users', u[0]);
    };

    let burst: { hit: Hit; at: number } | null = null;
    for (const r of resolved) {
      if (!r.seg.burst) continue;
      const at = this.clocks.resolve(r.seg.input.clock, r.seg.burst.t).ms;
      if (!burst || at < burst.at) burst = { hit: r.seg.burst, at };
    }
    if (!burst && resolved.length > 1) {
      const all = resolved.flatMap((r) => r.times).filter((t) => !Number.isNaN(t)).sort((a, b) => a - b);
      const T = o.bruteForceThreshold;
      for (let i = T - 1; i < all.length; i++) {
        if (all[i]! - all[i - T + 1]! <= o.bruteForceWindowMs) {
          burst = { hit: resolved[0]!.seg.first, at: all[i]! };
          break;
        }
      }
    }
    if (burst) {
      const a = this.tally(SSH_BRUTE_FORCE).get(addr);
      cover(a);
      a.facts.thresholdReachedAt = isoOf({ ms: burst.at, local: this.clocks.resolve(burst.hit.input.clock, burst.hit.t).local });
      a.facts.threshold = o.bruteForceThreshold;
      a.facts.windowSeconds = Math.round(o.bruteForceWindowMs / 1000);
    }

    // guesses per user among the names remembered (past MAX_USERS, later names are not, but their failures are counted)
    let onKnown = 0;
    for (const c of s.users.values()) onKnown += c;
    if (s.users.size >= o.sprayUsers && onKnown / s.users.size <= o.sprayMaxPerUser) {
      const a = this.tally(SSH_PASSWORD_SPRAYING).get(addr);
      cover(a);
    }

    for (const succ of s.successes) {
      const ts = this.clocks.resolve(succ.hit.input.clock, succ.hit.t).ms;
      if (Number.isNaN(ts)) continue;
      const from = ts - o.successLookbackMs;
      let recent = succ.recentInInput;
      for (const r of resolved) if (r.seg.input !== succ.hit.input) recent += failuresWithin(r.seg, r.times, r.min, r.max, from, ts);
      if (recent < o.successAfterFailures) continue;
      const a = this.tally(SSH_SUCCESS_AFTER_FAILURES).get(addr);
      a.hit(succ.hit);
      a.list('users', succ.user);
      a.list('methods', succ.method);
      a.facts.failuresBefore = Math.max(Number(a.facts.failuresBefore ?? 0), recent);
      a.facts.failuresTotal = s.failures;
      a.facts.lookbackHours = Math.round(o.successLookbackMs / 3_600_000);
    }
  }

  finish(): Finding[] {
    if (!this.judged) {
      this.judged = true;
      // most failures first, so the per-rule cap keeps the loudest sources
      const order = [...this.addresses.entries()].sort((a, b) => b[1].failures - a[1].failures);
      for (const [addr, s] of order) this.judgeAddress(addr, s);
    }
    return [...this.tallies.values()].flatMap((t) => t.findings(this.clocks));
  }
}
