import { loadCsv } from './format-csv.js';
import { loadPlain } from './format-plain.js';
import { loadStix } from './format-stix.js';
import { IndicatorSet } from './indicator-set.js';
import { Problems } from './problems.js';

export type IocFormat = 'plain' | 'csv' | 'stix';

export interface LoadedIndicators {
  indicators: IndicatorSet;
  /** One line each: lines that are no indicator, what was skipped and why. Never throws on content. */
  problems: string[];
  format: IocFormat;
}

/**
 * Reads an indicator file of any of the three formats, told apart by content
 * first (JSON is STIX; a first record with commas that names its columns or a
 * type is CSV) and by the .csv extension. A UTF-8 or UTF-16 byte order mark
 * and CRLF line ends are accepted; invalid UTF-8 is read with replacement
 * characters, so a junk line is reported, never fatal.
 */
export function loadIndicators(text: Buffer, fileName: string): LoadedIndicators {
  const indicators = new IndicatorSet();
  const problems = new Problems(fileName);
  const content = decode(text);
  let format = formatOf(content, fileName);
  if (format === 'stix') {
    const doc = parseJson(content);
    // a plain list may start with a bracketed address ([2001:db8::1])
    if (!doc.ok && content.trimStart().startsWith('[')) format = 'plain';
    else if (!doc.ok) problems.note(`not valid JSON (${doc.error})`);
    else loadStix(doc.value, fileName, indicators, problems);
  }
  if (format === 'csv') loadCsv(content, fileName, indicators, problems);
  if (format === 'plain') loadPlain(content.split(/\r?\n|\r/), fileName, indicators, problems);
  if (indicators.size === 0) problems.note('no indicator loaded');
  const unmatchable = indicators.count('sha1');
  if (unmatchable > 0) problems.note( `${unmatchable} SHA-1 hashes loaded, but collectors record SHA-256 (and dpkg's MD5): they match only where a command or log line quotes them`);
  return { indicators, problems: problems.list(), format };
}

function parseJson(s: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function decode(b: Buffer): string {
  if (b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString('utf16le');
  if (b[0] === 0xfe && b[1] === 0xff) return Buffer.from(b.subarray(2, b.length - (b.length % 2))).swap16().toString('utf16le');
  const s = b.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function formatOf(content: string, fileName: string): IocFormat {
  const start = content.trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'stix';
  if (/\.csv$/i.test(fileName)) return 'csv';
  const firstRecord = content.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (firstRecord === undefined || !firstRecord.includes(',')) return 'plain';
  const fields = firstRecord.split(',').map((f) => f.trim().replace(/^"|"$/g, '').toLowerCase().replace(/[^a-z0-9]/g, ''));
  return fields.some((f) => /^(?:value|indicator|ioc|observable|type|kind|md5|sha1|sha256|ip|ipv4|ipv6|domain|hostname|url|uri|filename|cidr|ipdst|ipsrc|hash|filehashmd5|filehashsha256)$/.test(f)) ? 'csv' : 'plain';
}
