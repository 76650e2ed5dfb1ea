import type { Evidence, Finding } from '../finding.js';
import { isoOf, type Clocks, type InputClock, type Resolved } from './clock.js';
import type { LogRuleMeta } from './rule-meta.js';

/** One log file (or journal export) being analysed. */
export interface InputRef {
  index: number;
  path: string;
  category: string;
  clock: InputClock;
}

/** A line that counted towards a finding. */
export interface Hit {
  input: InputRef;
  /** Provisional time on the input's clock (NaN when the line had none). */
  t: number;
  line: number;
  /** The line, clipped. */
  text: string;
}

/** Evidence text is a sample, not the record: a hostile megabyte line is cut. */
const MAX_TEXT = 2048;

/** A line's text as kept for evidence: cut at MAX_TEXT, and copied so the sample does not keep the whole line alive. */
export function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : Buffer.from(`${text.slice(0, MAX_TEXT)}…`).toString();
}

/** Values kept per list (users tried, commands, paths…); the list's size is counted beyond it. */
const LIST_MAX = 10;
const LIST_COUNT_MAX = 256;
/** Longer values (a hostile user name) are cut, and copied so they do not keep their line alive. */
const VALUE_MAX = 200;
/** Sources folded into the overflow finding that are counted one by one (beyond: "at least"). */
const OVERFLOW_COUNT_MAX = 100_000;

interface Span {
  input: InputRef;
  min: number;
  max: number;
  sample: Hit;
}

class ValueList {
  readonly shown: string[] = [];
  private readonly all = new Set<string>();
  capped = false;

  add(value: string): void {
    const v = value.length > VALUE_MAX ? Buffer.from(`${value.slice(0, VALUE_MAX)}…`).toString() : value;
    if (this.all.has(v)) return;
    if (this.all.size >= LIST_COUNT_MAX) {
      this.capped = true;
      return;
    }
    this.all.add(v);
    if (this.shown.length < LIST_MAX) this.shown.push(v);
  }

  get size(): number {
    return this.all.size;
  }
}

/** What one (rule, source) finding gathers: a count, first and last times per input, a sample line, facts. */
export class Aggregate {
  count = 0;
  private readonly spans: Span[] = [];
  readonly facts: Record<string, string | number | boolean | null> = {};
  private readonly lists = new Map<string, ValueList>();

  /** A line counted n times (`message repeated n times`). */
  hit(h: Hit, n = 1): void {
    this.count += n;
    this.cover(h.input, h.t, h.t, h);
  }

  /** Times seen in an input, with the line to show for it (the first seen there). */
  cover(input: InputRef, min: number, max: number, sample: Hit): void {
    let s = this.spans.find((x) => x.input === input);
    if (!s) this.spans.push((s = { input, min, max, sample }));
    if (min < s.min || Number.isNaN(s.min)) s.min = min;
    if (max > s.max || Number.isNaN(s.max)) s.max = max;
  }

  list(name: string, value: string): void {
    let l = this.lists.get(name);
    if (!l) this.lists.set(name, (l = new ValueList()));
    l.add(value);
  }

  /** Evidence and times, the sample taken from the input whose times come first. */
  evidence(clocks: Clocks): { evidence: Evidence; first: Resolved | null } {
    let first: Resolved | null = null;
    let last: Resolved | null = null;
    let sample: Hit | null = null;
    for (const s of this.spans) {
      const lo = clocks.resolve(s.input.clock, s.min);
      const hi = clocks.resolve(s.input.clock, s.max);
      if (!Number.isNaN(lo.ms) && (first === null || lo.ms < first.ms)) {
        first = lo;
        sample = s.sample;
      }
      if (!Number.isNaN(hi.ms) && (last === null || hi.ms > last.ms)) last = hi;
    }
    sample ??= this.spans[0]?.sample ?? null;
    const ev: Evidence = {
      path: sample?.input.path ?? null,
      ...(sample ? { line: sample.line, text: sample.text } : {}),
      count: this.count,
      firstTime: first ? isoOf(first) : null,
      lastTime: last ? isoOf(last) : null,
    };
    if (first?.local || last?.local) ev.timesLocal = true;
    const files = [...new Set(this.spans.map((s) => s.input.path))];
    if (files.length > 1) ev.files = files.slice(0, LIST_MAX);
    Object.assign(ev, this.facts);
    for (const [name, l] of this.lists) {
      ev[name] = l.shown;
      if (l.size > l.shown.length) ev[`${name}Count`] = l.size;
      // more distinct values than are counted one by one: the count is a floor
      if (l.capped) ev[`${name}CountAtLeast`] = true;
    }
    return { evidence: ev, first };
  }
}

/**
 * Findings of one rule, one per source (an address, a user, a writer): a
 * scanner's 50,000 lines make one finding with a count. Past maxSources the
 * rest are folded into one finding whose source is null, so findings stay
 * bounded whatever the logs hold.
 */
export class Tally {
  private readonly bySource = new Map<string, Aggregate>();
  private overflow: Aggregate | null = null;
  private readonly overflowSources = new Set<string>();
  private overflowCapped = false;

  constructor(
    readonly rule: LogRuleMeta,
    private readonly sourceField: string,
    private readonly maxSources: number,
  ) {}

  get(source: string): Aggregate {
    let a = this.bySource.get(source);
    if (a) return a;
    if (this.bySource.size < this.maxSources) {
      this.bySource.set(source, (a = new Aggregate()));
      return a;
    }
    if (this.overflowSources.size < OVERFLOW_COUNT_MAX) this.overflowSources.add(source);
    else this.overflowCapped = true;
    return (this.overflow ??= new Aggregate());
  }

  findings(clocks: Clocks): Finding[] {
    const out: Finding[] = [];
    const emit = (source: string | null, a: Aggregate, extra: Evidence = {}) => {
      const { evidence, first } = a.evidence(clocks);
      out.push({
        id: this.rule.id,
        severity: this.rule.severity,
        title: this.rule.title,
        attack: [...this.rule.attack],
        collector: 'logs',
        evidence: { [this.sourceField]: source, ...evidence, ...extra },
        pid: null,
        ts: first && !first.local ? isoOf(first) : null,
      });
    };
    for (const [source, a] of this.bySource) emit(source, a);
    if (this.overflow) {
      emit(null, this.overflow, {
        otherSources: this.overflowSources.size,
        ...(this.overflowCapped ? { otherSourcesAtLeast: true } : {}),
        note: `more than ${this.maxSources} sources: the rest are counted together here`,
      });
    }
    return out;
  }
}
