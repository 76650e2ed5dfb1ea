import { parseAddress } from './address.js';
import { hashKind, normalizeUrl, refang, urlHost, type Indicator } from './indicator.js';
import type { IndicatorSet } from './indicator-set.js';

/** An indicator found, with the text that matched it (a subdomain, an address inside a network, a URL as written). */
export interface Match {
  indicator: Indicator;
  matched: string;
}

/** Where words end in command lines, log lines and configuration: blanks, quotes and shell punctuation. */
const WORD_BREAK = /[\s"'`;|&<>(){},\\]+/;
/** Parts of a word that may each be an address, domain or hash: user@host, host:port, key=value, a/path. */
const PART_BREAK = /[/@=?#!*$^~+]+/;
const MAX_TEXT = 64 * 1024;
const HASH_LENGTHS = new Set([32, 40, 64]);
/** What refang() undoes inside one word (words never hold ( or {); brackets alone are common in logs (sshd[1234]:). */
const DEFANGED = /\[(?:\.|dot|:|\/|@|at)\]|^hxxp|^fxp/i;
const MAY_HOLD_HOST = /[.:/@=?#!*$^~+]/;
/** From a scheme to the next scheme or the end of the word: ?a=http://x&b=https://y holds two. */
const URL_IN_WORD = /[a-z][a-z0-9+.-]{0,15}:\/\/(?:(?![a-z][a-z0-9+.-]{0,15}:\/\/).)*/gi;

/**
 * Every indicator a piece of text mentions: URLs (normalised as indicators
 * are), addresses (IPv4, IPv6, with or without a port or brackets; inside
 * listed networks too), domains and their subdomains, hashes, and file names
 * (the last component of each word). Each word costs a fixed number of map
 * lookups whatever the number of indicators. Only the first 64 KiB of a text
 * is read. Each indicator is reported once per text.
 */
export function matchText(set: IndicatorSet, text: string): Match[] {
  let found: Map<Indicator, Match> | null = null;
  const add = (indicator: Indicator | undefined, matched: string) => {
    if (!indicator) return;
    found ??= new Map();
    if (!found.has(indicator)) found.set(indicator, { indicator, matched });
  };
  const hosts = set.hasAddresses || set.hasDomains || set.hasHashes || set.hasUrls;
  const input = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  for (const word of input.split(WORD_BREAK)) {
    const w = trimPunctuation(mayBeDefanged(word) && DEFANGED.test(word) ? refang(word) : word);
    if (w === '') continue;
    if (set.hasNames) add(set.file(w), w);
    if (!hosts) continue;
    if (w.includes('://')) {
      // a URL may sit inside a word: a query parameter (?u=http://…), an option (--url=http://…)
      for (const u of w.matchAll(URL_IN_WORD)) {
        const url = normalizeUrl(trimPunctuation(u[0]));
        if (!url) continue;
        if (set.hasUrls) add(set.url(url), url);
        matchHost(set, urlHost(url), add);
      }
    }
    // most words of a log line (names, numbers, verbs) hold no dot, colon or separator and are no hash: nothing more to look up
    if (!HASH_LENGTHS.has(w.length) && !MAY_HOLD_HOST.test(w)) continue;
    for (const part of w.split(PART_BREAK)) matchHost(set, stripPort(trimPunctuation(part)), add);
  }
  return found === null ? [] : [...(found as Map<Indicator, Match>).values()];
}

/** A cheap test before DEFANGED: a bracket, or a word starting with h or f. */
function mayBeDefanged(word: string): boolean {
  const c = word.charCodeAt(0) | 32;
  return c === 104 || c === 102 || word.includes('[');
}

type Add = (indicator: Indicator | undefined, matched: string) => void;

function matchHost(set: IndicatorSet, host: string, add: Add): void {
  if (host.length < 3) return;
  const c = host.charCodeAt(0);
  const maybeAddress = host.includes(':') || (c >= 48 && c <= 57) || c === 91;
  const a = maybeAddress ? parseAddress(host) : null;
  if (a) {
    if (set.hasAddresses) add(set.address(a), host);
    return;
  }
  if (set.hasHashes && HASH_LENGTHS.has(host.length) && hashKind(host)) {
    add(set.hash(host), host.toLowerCase());
    return;
  }
  if (set.hasDomains && host.includes('.')) {
    const d = host.endsWith('.') ? host.slice(0, -1).toLowerCase() : host.toLowerCase();
    add(set.domain(d), d);
  }
}

/** host:port and [v6]:port without the port; a bare IPv6 address keeps its colons. */
function stripPort(s: string): string {
  const colon = s.lastIndexOf(':');
  if (colon === -1) return s;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    return close === -1 ? s : s.slice(1, close);
  }
  return s.indexOf(':') === colon && /^\d{1,5}$/.test(s.slice(colon + 1)) ? s.slice(0, colon) : s;
}

/** . , ; ! ? around a word (and : after it) belong to the sentence, not to the name or address. */
function trimPunctuation(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPunct(s.charCodeAt(a))) a++;
  while (b > a && (isPunct(s.charCodeAt(b - 1)) || s.charCodeAt(b - 1) === 58)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isPunct(c: number): boolean {
  return c === 46 || c === 44 || c === 59 || c === 33 || c === 63;
}
