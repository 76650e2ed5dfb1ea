import type { IndicatorKind } from './indicator.js';

/**
 * The part of STIX 2.1 patterning (docs.oasis-open.org/cti/stix/v2.1, section 9)
 * that names things goldhour can find on a host: equality (`=`, and `IN` lists)
 * on file hashes and names, addresses, domains and URLs, combined with AND and
 * OR, in one or several observation expressions (qualifiers such as WITHIN or
 * REPEATS are read and ignored: a host triage has no time window to apply them
 * to). Everything else (`!=`, `<`, LIKE, MATCHES, ISSUBSET, EXISTS, NOT, other
 * object types) is reported as skipped, never guessed at.
 *
 * A conjunction (`A AND B`) cannot be tested as a whole against rows that each
 * show one fact, so it is reduced to its most specific terms: a hash over a URL
 * over an address over a domain over a path over a name. `[file:name = 'x' AND
 * file:hashes.MD5 = 'y']` becomes the hash alone; two hashes of one file are
 * each enough.
 */
export interface PatternTerm {
  kind: IndicatorKind;
  value: string;
}

export interface PatternResult {
  /** Terms of which any one, matched, is the indicator seen. */
  terms: PatternTerm[];
  /** What was read but cannot be matched, in words (one entry per comparison). */
  skipped: string[];
}

export class PatternError extends Error {}

type Tok =
  | { t: 'str'; v: string }
  | { t: 'num'; v: string }
  | { t: 'id'; v: string }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: string };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'FOLLOWEDBY', 'WITHIN', 'SECONDS', 'REPEATS', 'TIMES', 'START', 'STOP']);
const MAX_TOKENS = 10_000;
const MAX_ALTERNATIVES = 256;

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    if (out.length > MAX_TOKENS) throw new PatternError('pattern too long');
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // t'…' timestamps, h'…' hex, b'…' base64 and plain '…' strings
    if (c === "'" || (/[thb]/.test(c) && src[i + 1] === "'")) {
      let j = c === "'" ? i + 1 : i + 2;
      let v = '';
      for (;;) {
        if (j >= src.length) throw new PatternError('unterminated string');
        const d = src[j]!;
        if (d === '\\' && j + 1 < src.length) {
          v += src[j + 1];
          j += 2;
          continue;
        }
        if (d === "'") break;
        v += d;
        j++;
      }
      out.push({ t: 'str', v: c === "'" ? v : `${c}'${v}` });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?/.exec(src.slice(i, i + 40));
    if (num && (c === '-' || /\d/.test(c))) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i, i + 300));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = /^(?:!=|<=|>=|=|<|>)/.exec(src.slice(i, i + 2));
    if (op) {
      out.push({ t: 'op', v: op[0] });
      i += op[0].length;
      continue;
    }
    if ('[]():.,*'.includes(c)) {
      out.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    throw new PatternError(`unexpected character ${JSON.stringify(c)}`);
  }
  return out;
}

/** One conjunction: terms that must all hold, or null when it holds something unmatchable only. */
type Conj = PatternTerm[];

class Parser {
  private i = 0;
  readonly skipped: string[] = [];
  constructor(private readonly toks: Tok[]) {}

  parse(): Conj[] {
    const r = this.pattern();
    if (this.i !== this.toks.length) throw new PatternError(`unexpected ${this.peek()?.v ?? 'end'}`);
    return r;
  }

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }

  private kw(word: string): boolean {
    const t = this.peek();
    if (t?.t === 'id' && t.v.toUpperCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  private punct(p: string): boolean {
    const t = this.peek();
    if (t?.t === 'punct' && t.v === p) {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(p: string): void {
    if (!this.punct(p)) throw new PatternError(`expected ${p}`);
  }

  /** Observation expressions joined by OR, AND or FOLLOWEDBY (across observations AND and FOLLOWEDBY mean "both were seen"). */
  private pattern(): Conj[] {
    let left = this.observation();
    for (;;) {
      if (this.kw('OR')) left = or(left, this.observation());
      else if (this.kw('AND') || this.kw('FOLLOWEDBY')) left = and(left, this.observation());
      else return left;
    }
  }

  private observation(): Conj[] {
    let r: Conj[];
    if (this.punct('[')) {
      r = this.comparisonOr();
      this.expect(']');
    } else if (this.punct('(')) {
      r = this.pattern();
      this.expect(')');
    } else throw new PatternError('expected [ or (');
    this.qualifiers();
    return r;
  }

  private qualifiers(): void {
    for (;;) {
      if (this.kw('WITHIN')) {
        this.i++;
        if (!this.kw('SECONDS')) throw new PatternError('expected SECONDS');
      } else if (this.kw('REPEATS')) {
        this.i++;
        if (!this.kw('TIMES')) throw new PatternError('expected TIMES');
      } else if (this.kw('START')) {
        this.i++;
        if (!this.kw('STOP')) throw new PatternError('expected STOP');
        this.i++;
      } else return;
    }
  }

  private comparisonOr(): Conj[] {
    let left = this.comparisonAnd();
    while (this.kw('OR')) left = or(left, this.comparisonAnd());
    return left;
  }

  private comparisonAnd(): Conj[] {
    let left = this.comparisonAtom();
    while (this.kw('AND')) left = and(left, this.comparisonAtom());
    return left;
  }

  private comparisonAtom(): Conj[] {
    if (this.punct('(')) {
      const r = this.comparisonOr();
      this.expect(')');
      return r;
    }
    if (this.kw('EXISTS')) {
      const path = this.objectPath();
      this.skipped.push(`EXISTS ${path}`);
      return [[]];
    }
    const path = this.objectPath();
    const negated = this.kw('NOT');
    const t = this.peek();
    let op: string;
    if (t?.t === 'op') {
      op = t.v;
      this.i++;
    } else if (t?.t === 'id' && KEYWORDS.has(t.v.toUpperCase())) {
      op = t.v.toUpperCase();
      this.i++;
    } else throw new PatternError(`expected a comparison after ${path}`);
    const values = op === 'IN' ? this.list() : [this.value()];
    const kind = kindOf(path);
    if (negated || (op !== '=' && op !== 'IN') || kind === null) {
      this.skipped.push(`${path} ${negated ? 'NOT ' : ''}${op}`);
      return [[]];
    }
    return values.map((v) => [{ kind, value: v }]);
  }

  private list(): string[] {
    this.expect('(');
    const out = [this.value()];
    while (this.punct(',')) out.push(this.value());
    this.expect(')');
    return out;
  }

  private value(): string {
    const t = this.peek();
    if (t && (t.t === 'str' || t.t === 'num' || (t.t === 'id' && /^(?:true|false)$/i.test(t.v)))) {
      this.i++;
      return t.v;
    }
    throw new PatternError('expected a value');
  }

  /** type:prop.prop[0].'quoted', returned with names lower-cased and quotes dropped. */
  private objectPath(): string {
    const type = this.peek();
    if (type?.t !== 'id') throw new PatternError('expected an object path');
    this.i++;
    this.expect(':');
    let path = `${type.v.toLowerCase()}:`;
    let first = true;
    for (;;) {
      const t = this.peek();
      if (!first && !(t?.t === 'punct' && (t.v === '.' || t.v === '['))) return path;
      if (!first && t?.t === 'punct' && t.v === '[') {
        this.i++;
        const idx = this.peek();
        if (!idx || (idx.t !== 'num' && !(idx.t === 'punct' && idx.v === '*'))) throw new PatternError('expected an index');
        this.i++;
        this.expect(']');
        path += '[*]';
        continue;
      }
      if (!first) this.i++;
      const name = this.peek();
      if (!name || (name.t !== 'id' && name.t !== 'str')) throw new PatternError('expected a property name');
      this.i++;
      path += `${first ? '' : '.'}${name.v.toLowerCase()}`;
      first = false;
    }
  }
}

function or(a: Conj[], b: Conj[]): Conj[] {
  return cap([...a, ...b]);
}

function and(a: Conj[], b: Conj[]): Conj[] {
  const out: Conj[] = [];
  for (const x of a) for (const y of b) out.push([...x, ...y]);
  return cap(out);
}

function cap(c: Conj[]): Conj[] {
  if (c.length > MAX_ALTERNATIVES) throw new PatternError(`more than ${MAX_ALTERNATIVES} alternatives`);
  return c;
}

const HASHES: Record<string, IndicatorKind> = { md5: 'md5', 'sha-1': 'sha1', sha1: 'sha1', 'sha-256': 'sha256', sha256: 'sha256' };

function kindOf(path: string): IndicatorKind | null {
  const hash = /^(?:file|artifact):hashes\.(.+)$/.exec(path);
  if (hash) return HASHES[hash[1]!] ?? null;
  switch (path) {
    case 'file:name':
      return 'filename';
    case 'ipv4-addr:value':
    case 'ipv6-addr:value':
    case 'network-traffic:dst_ref.value':
    case 'network-traffic:src_ref.value':
      return 'cidr';
    case 'domain-name:value':
    case 'network-traffic:extensions.http-request-ext.request_header.host':
      return 'domain';
    case 'url:value':
      return 'url';
    case 'process:binary_ref.name':
    case 'process:image_ref.name':
      return 'filename';
    default:
      return null;
  }
}

/** Most specific first: the term a conjunction is reduced to. */
const SPECIFICITY: readonly IndicatorKind[][] = [['sha256', 'sha1', 'md5'], ['url'], ['cidr', 'ip'], ['domain'], ['path'], ['filename']];

export function parsePattern(pattern: string): PatternResult {
  const p = new Parser(tokenize(pattern));
  const conjs = p.parse();
  const terms: PatternTerm[] = [];
  for (const c of conjs) {
    const tier = SPECIFICITY.find((kinds) => c.some((t) => kinds.includes(t.kind)));
    if (tier) terms.push(...c.filter((t) => tier.includes(t.kind)));
  }
  return { terms, skipped: p.skipped };
}
