import { severityRank, type Finding } from '../finding.js';
import { AuthAnalysis, JOURNAL_KEEP } from './auth-analysis.js';
import { ANALYSIS_INCOMPLETE, AUTH_RULES } from './auth-rules.js';
import { Clocks, InputClock } from './clock.js';
import { contentOf, LineSplitter, type ContentNotes } from './content.js';
import type { SourceFamily } from './dedup.js';
import { JournalExportParser } from './journal-export.js';
import { resolveOptions, type LogAnalysisOptions } from './options.js';
import type { LogRule, LogRuleMeta } from './rule-meta.js';
import { parseSyslogLine } from './syslog-line.js';
import { clip, type InputRef } from './tally.js';
import { WebAnalysis } from './web-analysis.js';
import { WEB_RULES } from './web-rules.js';

export type { LogAnalysisOptions } from './options.js';
export type { LogRule, LogRuleCases, LogRuleMeta } from './rule-meta.js';

/**
 * One log to analyse: `path` is the host's path (used verbatim in evidence),
 * `category` the logs collector's row category, `mtime` the file's (to infer
 * the year of classic syslog lines), `chunks` the bytes as stored, gzip
 * included. Chunks must not change once delivered.
 */
export interface LogInput {
  path: string;
  category: string;
  mtime: Date | null;
  chunks: AsyncIterable<Uint8Array>;
}

/**
 * Log analysis over several inputs (auth.log, auth.log.1, auth.log.2.gz, the
 * journal export, access logs…): windows and "success after failures" span
 * them, whatever order they come in. add() reads one input to its end and
 * never throws on its content; finish() returns the findings, most severe first.
 */
export interface LogAnalysis {
  add(input: LogInput): Promise<void>;
  finish(): Finding[];
}

const strip = ({ cases: _cases, ...meta }: LogRule): LogRuleMeta => meta;

/** Every rule this module can emit, with its cases beside it. */
export const LOG_RULES_WITH_CASES: readonly LogRule[] = [...AUTH_RULES, ...WEB_RULES];
/** The rules this module can emit, as data: id, title, severity, attack, description, falsepositives, references. */
export const LOG_RULES: readonly LogRuleMeta[] = LOG_RULES_WITH_CASES.map(strip);

/** Categories read as syslog text, and the family their messages count under when deduplicating. */
const SYSLOG_FAMILY: Record<string, SourceFamily> = { auth: 'auth', syslog: 'syslog' };

function problems(notes: ContentNotes, cut: number, broken: number): string[] {
  const out: string[] = [];
  if (notes.compression !== null && notes.compression !== 'gzip') out.push(`${notes.compression} compressed: not read (decompress the raw copy by hand)`);
  if (notes.error) out.push(`${notes.compression === 'gzip' ? 'decompression' : 'reading'} failed after ${notes.bytes} bytes: ${notes.error}`);
  if (notes.capped) out.push(`read the first ${notes.bytes} bytes only (maxBytesPerInput)`);
  if (cut > 0) out.push(`${cut} lines longer than the line cap were analysed by their start`);
  if (broken > 0) out.push(`${broken} journal export fields with broken framing`);
  return out;
}

export function createLogAnalysis(opts: Partial<LogAnalysisOptions> = {}): LogAnalysis {
  const o = resolveOptions(opts);
  const clocks = new Clocks(o.timeZone);
  const auth = new AuthAnalysis(o, clocks);
  const web = new WebAnalysis(o, clocks);
  const incomplete: { path: string | null; problems: string[] }[] = [];
  let inputs = 0;

  async function read(chunks: AsyncIterable<Uint8Array>, sink: (chunk: Buffer) => void): Promise<ContentNotes> {
    const notes: ContentNotes = { compression: null, bytes: 0, capped: false, error: null };
    for await (const chunk of contentOf(chunks, o.maxBytesPerInput, notes)) sink(chunk);
    return notes;
  }

  function syslogLines(input: InputRef, family: SourceFamily): LineSplitter {
    return new LineSplitter(o.maxLineBytes, (buf, lineNo) => {
      const text = buf.toString('utf8');
      const l = parseSyslogLine(text);
      if (l) auth.syslogLine(family, l, input, lineNo, text);
    });
  }

  function webLines(input: InputRef): LineSplitter {
    return new LineSplitter(o.maxLineBytes, (buf, lineNo) => web.line(input, buf.toString('utf8'), lineNo));
  }

  function journalParser(input: InputRef): JournalExportParser {
    return new JournalExportParser(JOURNAL_KEEP, o.maxLineBytes, (e) => {
      const usec = e.fields.get('_SOURCE_REALTIME_TIMESTAMP') ?? e.fields.get('__REALTIME_TIMESTAMP');
      const ms = usec !== undefined && /^\d{1,19}$/.test(usec) ? Number(BigInt(usec) / 1000n) : Number.NaN;
      const t = Math.abs(ms) < 8.64e15 ? ms : Number.NaN;
      auth.journalEntry(e.fields, { input, t, line: e.line, text: clip(e.fields.get('MESSAGE') ?? '') });
    });
  }

  return {
    async add(li: LogInput): Promise<void> {
      const input: InputRef = { index: inputs++, path: li.path, category: li.category, clock: new InputClock(li.mtime ?? o.now) };
      let notes: ContentNotes;
      let cut = 0;
      let broken = 0;
      const family = SYSLOG_FAMILY[li.category];
      if (family) {
        const lines = syslogLines(input, family);
        notes = await read(li.chunks, (c) => lines.push(c));
        lines.end();
        cut = lines.cut;
      } else if (li.category === 'web') {
        const lines = webLines(input);
        notes = await read(li.chunks, (c) => lines.push(c));
        lines.end();
        cut = lines.cut;
      } else if (li.category === 'journal-export') {
        const parser = journalParser(input);
        notes = await read(li.chunks, (c) => parser.push(c));
        parser.end();
        broken = parser.broken;
      } else {
        // other categories hold nothing these rules read: not even opened
        return;
      }
      input.clock.seal();
      const found = problems(notes, cut, broken);
      if (found.length > 0) incomplete.push({ path: li.path, problems: found });
    },

    finish(): Finding[] {
      const findings = [...auth.finish(), ...web.finish()];
      const notTracked = auth.untrackedAddresses;
      const gaps = notTracked > 0 ? [...incomplete, { path: null, problems: [`${notTracked} login events from addresses beyond the first ${o.maxTrackedAddresses} were not tracked (maxTrackedAddresses)`] }] : incomplete;
      for (const g of gaps) {
        findings.push({
          id: ANALYSIS_INCOMPLETE.id,
          severity: ANALYSIS_INCOMPLETE.severity,
          title: ANALYSIS_INCOMPLETE.title,
          attack: [],
          collector: 'logs',
          evidence: { path: g.path, problems: g.problems },
          pid: null,
          ts: null,
        });
      }
      return findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || (a.ts ?? '').localeCompare(b.ts ?? ''));
    },
  };
}
