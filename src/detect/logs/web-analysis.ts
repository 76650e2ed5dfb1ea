import type { Finding } from '../finding.js';
import { normalAddress } from './auth-events.js';
import type { Clocks } from './clock.js';
import type { LogAnalysisOptions } from './options.js';
import { clip, Tally, type Hit, type InputRef } from './tally.js';
import { normalizeForMatch, parseWebLine } from './web-request.js';
import { commandParam, isWebShellPath, WEB_PATTERN_RULES, WEB_SHELL, WEB_SHELL_COMMAND, type WebView } from './web-rules.js';

const reached = (status: number | null) => status !== null && status >= 200 && status < 300;
/** Inputs per address whose first POST is remembered (rotated generations of one site). */
const MAX_POST_INPUTS = 16;

class LastNormalized {
  private raw: string | null = null;
  private value = '';

  get(raw: string): string {
    if (raw !== this.raw) {
      this.raw = raw;
      this.value = normalizeForMatch(raw, false);
    }
    return this.value;
  }
}

/** Web access logs: attack patterns and web shells, one finding per (rule, client address). */
export class WebAnalysis {
  private readonly tallies = new Map<string, Tally>();
  /** Each address's first successful POST in each input, to tell a web shell used right after an upload. */
  private readonly posts = new Map<string, Hit[]>();
  /** A client sends the same headers line after line. */
  private readonly agents = new LastNormalized();
  private readonly referers = new LastNormalized();

  constructor(
    private readonly o: LogAnalysisOptions,
    private readonly clocks: Clocks,
  ) {
    for (const r of [...WEB_PATTERN_RULES, WEB_SHELL, WEB_SHELL_COMMAND]) this.tallies.set(r.id, new Tally(r, 'address', o.maxSourcesPerRule));
  }

  private timeOf(input: InputRef, text: string): number {
    return input.clock.encodeText(`[${text}]`);
  }

  line(input: InputRef, text: string, lineNo: number): void {
    const req = parseWebLine(text);
    if (!req) return;
    const q = req.target.indexOf('?');
    const path = normalizeForMatch(q === -1 ? req.target : req.target.slice(0, q), false);
    const v: WebView = {
      method: req.method,
      path,
      target: q === -1 ? path : path + normalizeForMatch(req.target.slice(q), true),
      agent: this.agents.get(req.agent),
      referer: this.referers.get(req.referer),
      status: req.status,
      rawTarget: req.target,
    };
    const addr = normalAddress(req.client) ?? req.client.slice(0, 64);
    let hit: Hit | null = null;
    const record = (id: string) => {
      hit ??= { input, t: this.timeOf(input, req.time), line: lineNo, text: clip(text) };
      const a = this.tallies.get(id)!.get(addr);
      a.hit(hit);
      a.list('statuses', String(req.status ?? '-'));
      a.list('paths', q === -1 ? req.target : req.target.slice(0, q));
      return a;
    };
    for (const rule of WEB_PATTERN_RULES) {
      if (!rule.test(v)) continue;
      const a = record(rule.id);
      if (rule.id === 'logs.web.scanner') a.list('agents', req.agent);
    }
    if (!reached(req.status)) return;
    if (isWebShellPath(path)) {
      const cmd = commandParam(req.target);
      const a = record(cmd ? WEB_SHELL_COMMAND.id : WEB_SHELL.id);
      a.list('methods', req.method);
      if (cmd) a.list('commands', cmd);
    }
    if (req.method === 'POST') this.post(addr, { input, t: this.timeOf(input, req.time), line: lineNo, text: '' });
  }

  private post(addr: string, hit: Hit): void {
    let list = this.posts.get(addr);
    if (!list) {
      if (this.posts.size >= this.o.maxTrackedAddresses) return;
      this.posts.set(addr, (list = []));
    }
    if (list.length < MAX_POST_INPUTS && !list.some((p) => p.input === hit.input)) list.push(hit);
  }

  /** The address POSTed successfully at or before this time (resolved, as in evidence). */
  private postedBy(addr: string, firstTime: string): boolean {
    const at = Date.parse(firstTime.endsWith('Z') ? firstTime : `${firstTime}Z`);
    return (this.posts.get(addr) ?? []).some((p) => this.clocks.resolve(p.input.clock, p.t).ms <= at);
  }

  finish(): Finding[] {
    const out: Finding[] = [];
    for (const t of this.tallies.values()) {
      for (const f of t.findings(this.clocks)) {
        const { address, firstTime } = f.evidence;
        if (f.id === WEB_SHELL_COMMAND.id && typeof address === 'string' && typeof firstTime === 'string') f.evidence.postedBefore = this.postedBy(address, firstTime);
        out.push(f);
      }
    }
    return out;
  }
}
