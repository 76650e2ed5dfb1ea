import { classify, parseAs, type IndicatorKind, type Parsed } from './indicator.js';
import type { IndicatorSet } from './indicator-set.js';
import type { Problems } from './problems.js';

/** A record of a CSV file and the line it starts on (quoted fields may span lines). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** RFC 4180: fields quoted with ", "" inside quotes is one ", quoted fields may hold commas and newlines; CR before LF dropped. */
export function* csvRecords(text: string): Generator<CsvRecord> {
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
      any = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      any = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      if (any || field !== '') yield { line: start, fields: [...fields, field] };
      fields = [];
      field = '';
      any = false;
      line++;
      start = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || field !== '') yield { line: start, fields: [...fields, field] };
}

/**
 * Type names as feeds write them (MISP attribute types, OTX indicator types,
 * STIX object names, plain words), squeezed to lower-case letters and digits.
 */
const TYPE_WORDS: Record<string, IndicatorKind | 'hash'> = {
  md5: 'md5', filehashmd5: 'md5', hashmd5: 'md5',
  sha1: 'sha1', filehashsha1: 'sha1', hashsha1: 'sha1',
  sha256: 'sha256', filehashsha256: 'sha256', hashsha256: 'sha256',
  hash: 'hash', filehash: 'hash',
  ip: 'cidr', ipv4: 'cidr', ipv6: 'cidr', ipaddress: 'cidr', ipdst: 'cidr', ipsrc: 'cidr', ipv4addr: 'cidr', ipv6addr: 'cidr', address: 'cidr',
  cidr: 'cidr', netblock: 'cidr', network: 'cidr', subnet: 'cidr',
  domain: 'domain', hostname: 'domain', domainname: 'domain', host: 'domain', fqdn: 'domain',
  url: 'url', uri: 'url', link: 'url',
  filename: 'filename', file: 'filename', name: 'filename', filenamepattern: 'filename',
  filepath: 'path', path: 'path',
};
const VALUE_COLUMNS = new Set(['value', 'indicator', 'ioc', 'observable', 'data', 'iocvalue', 'indicatorvalue']);
const TYPE_COLUMNS = new Set(['type', 'kind', 'indicatortype', 'ioctype', 'category', 'datatype', 'attributetype']);
const LABEL_COLUMNS = new Set(['description', 'comment', 'label', 'title', 'tags', 'threat', 'malware', 'name']);

const squeeze = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

export function typeWord(s: string): IndicatorKind | 'hash' | null {
  return TYPE_WORDS[squeeze(s)] ?? null;
}

/**
 * A CSV list: either a header naming the value and type columns (and maybe a
 * description), or headerless rows of `value,type` (or `type,value`, told by
 * which field is a type word). A row of an unknown type (email, mutex…) is
 * counted as skipped, per type, not listed line by line.
 */
export function loadCsv(text: string, fileName: string, into: IndicatorSet, problems: Problems): void {
  let columns: { value: number; type: number | null; label: number | null } | null = null;
  let first = true;
  for (const rec of csvRecords(text)) {
    const f = rec.fields.map((x) => x.trim());
    if (f.length === 1 && f[0] === '') continue;
    if (f[0]!.startsWith('#')) continue;
    if (first) {
      first = false;
      columns = header(f);
      if (columns) continue;
    }
    let value: string | undefined;
    let type: string | undefined;
    let label: string | null = null;
    if (columns) {
      value = f[columns.value];
      type = columns.type === null ? undefined : f[columns.type];
      label = columns.label === null ? null : f[columns.label] || null;
    } else if (f.length >= 2 && typeWord(f[1]!) !== null) {
      [value, type] = [f[0], f[1]];
    } else if (f.length >= 2 && typeWord(f[0]!) !== null) {
      [type, value] = [f[0], f[1]];
    } else {
      value = f[0];
    }
    if (!value) {
      problems.at(rec.line, 'no value');
      continue;
    }
    const parsed = parseTyped(value, type);
    if (parsed === 'unknown-type') problems.count(`rows of type ${JSON.stringify(squeeze(type ?? ''))} skipped: goldhour matches hashes, addresses, domains, URLs and file names`);
    else if (!parsed) problems.at(rec.line, type ? `not a valid ${type}` : 'not an indicator', value);
    else into.add(parsed, `${fileName}:${rec.line}`, label);
  }
}

function parseTyped(value: string, type: string | undefined): Parsed | null | 'unknown-type' {
  if (type === undefined || type === '') return classify(value);
  const kind = typeWord(type);
  if (kind === null) return 'unknown-type';
  // MISP writes "ip-dst|port" values as 1.2.3.4|443
  const v = value.includes('|') && kind === 'cidr' ? value.slice(0, value.indexOf('|')) : value;
  return kind === 'hash' ? classify(v) : parseAs(kind, v);
}

function header(f: string[]): { value: number; type: number | null; label: number | null } | null {
  const names = f.map(squeeze);
  const value = names.findIndex((n) => VALUE_COLUMNS.has(n));
  if (value === -1) return null;
  const type = names.findIndex((n) => TYPE_COLUMNS.has(n));
  const label = names.findIndex((n, i) => i !== value && i !== type && LABEL_COLUMNS.has(n));
  return { value, type: type === -1 ? null : type, label: label === -1 ? null : label };
}
