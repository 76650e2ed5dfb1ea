import type { Evidence } from '../finding.js';
import type { DetectContext } from '../rule.js';
import type { Tagged } from '../rows.js';
import { clip, tsOf } from '../rules/evidence.js';

/**
 * What one row shows that an indicator can name, and where: the facts are
 * looked up (hashes, file paths, addresses, free text), the place is what a
 * finding points at. `key` says which place a finding is about, so that many
 * rows about one place (lines of one crontab, connections of one process)
 * make one finding with a count.
 */
export interface Observation {
  key: string;
  evidence: Evidence;
  pid?: number | null;
  ts?: string | null;
  /** The row is a running process and `hashes` is its executable. */
  runningExe?: boolean;
  hashes: (string | null | undefined)[];
  files: (string | null | undefined)[];
  addresses: (string | null | undefined)[];
  texts: (string | null | undefined)[];
  /** The columns the facts came from, named in the evidence. */
  field: string;
}

const none = { hashes: [], files: [], addresses: [], texts: [] };

/** A configuration line or script text that runs something; one observation per line, keyed by its file. */
function lines(path: string, text: string | null, firstLine: number | null, mtime: string | null, field: string): Observation[] {
  if (!text) return [];
  return text.split('\n').flatMap((l, i) =>
    l.trim() === '' || l.trimStart().startsWith('#') ? [] : [{ key: path, evidence: { path, line: (firstLine ?? 1) + i, text: clip(l) }, ts: tsOf(mtime), field, ...none, texts: [l] }],
  );
}

function file(path: string, sha256: string | null, mtime: string | null, field = 'sha256'): Observation {
  return { key: path, evidence: { path }, ts: tsOf(mtime), field, ...none, hashes: [sha256], files: [path] };
}

export function observe(t: Tagged, ctx: DetectContext): Observation[] {
  switch (t.source) {
    case 'processes': {
      const p = t.row;
      const base = { key: `pid:${p.pid}`, pid: p.pid, ts: tsOf(p.startTime) };
      const evidence: Evidence = { path: p.exe, text: clip(p.argv.join(' ')), comm: p.comm, user: p.user ?? (p.uid === null ? null : String(p.uid)) };
      return [
        { ...base, evidence, runningExe: true, field: 'exeSha256', ...none, hashes: [p.exeSha256] },
        { ...base, evidence, field: 'exe', ...none, files: [p.exe, p.argv[0]] },
        { ...base, evidence, field: 'argv', ...none, texts: [p.argv.join(' ')] },
      ];
    }
    case 'hidden-processes': {
      const h = t.row;
      return h.exe ? [{ key: `pid:${h.pid ?? '-'}`, pid: h.pid, evidence: { path: h.exe, comm: h.comm }, field: 'exe', ...none, files: [h.exe] }] : [];
    }
    case 'sockets': {
      const s = t.row;
      if (s.family !== 'inet' && s.family !== 'inet6') return [];
      const pid = s.pids[0] ?? null;
      const owner = pid === null ? undefined : ctx.processes.get(pid);
      return [
        {
          key: `sockets:${s.pids.join(',') || `inode:${s.inode}`}`,
          pid,
          evidence: {
            path: owner?.exe ?? null,
            protocol: s.protocol,
            state: s.state,
            local: `${s.localAddress}:${s.localPort}`,
            remote: `${s.remoteAddress}:${s.remotePort}`,
            pids: s.pids,
            comm: s.owners[0]?.comm ?? owner?.comm ?? null,
          },
          field: 'remoteAddress/localAddress',
          ...none,
          addresses: [s.remoteAddress, s.localAddress],
        },
      ];
    }
    case 'logins': {
      const l = t.row;
      if (l.kind === 'file') return [];
      return [{ key: `${l.source}:${l.user ?? ''}`, evidence: { path: l.source, user: l.user, host: l.host, time: l.time }, ts: tsOf(l.time), field: 'address/host', ...none, addresses: [l.address], texts: [l.host] }];
    }
    case 'temp-files':
    case 'file-scan':
      return [file(t.row.path, t.row.sha256, t.row.mtime)];
    case 'packages':
      return t.row.kind === 'file' && t.row.path ? [file(t.row.path, t.row.actualMd5, null, 'actualMd5')] : [];
    case 'kernel-modules': {
      const k = t.row;
      if (k.kind === 'config') return lines(k.source ?? k.path, k.directive === 'install' || k.directive === 'remove' ? k.args : null, k.lineNumber, k.mtime, 'args');
      return k.path ? [file(k.path, k.sha256, k.mtime)] : [];
    }
    case 'pam': {
      const p = t.row;
      const out = p.kind === 'rule' ? lines(p.path, p.raw, p.lineNumber, p.mtime, 'raw') : [];
      if (p.modulePath) out.push(file(p.modulePath, p.moduleSha256, p.moduleMtime, 'moduleSha256'));
      if (p.kind === 'file') out.push(file(p.path, p.sha256, p.mtime));
      return out;
    }
    case 'preload': {
      const p = t.row;
      const out = p.raw && p.source ? lines(p.source, p.raw, p.lineNumber, p.mtime, 'raw') : [];
      if (p.kind === 'file' || p.kind === 'preload') out.push(file(p.path, p.sha256, p.mtime));
      return out;
    }
    case 'cron': {
      const c = t.row;
      if ((c.kind === 'job' || c.kind === 'at-job') && c.command) return lines(c.file, c.command, c.line, c.mtime, 'command');
      if (c.kind === 'script') return [...lines(c.file, c.firstLines, 1, c.mtime, 'firstLines'), file(c.file, c.sha256, c.mtime)];
      if (c.kind === 'file') return [file(c.file, c.sha256, c.mtime)];
      return [];
    }
    case 'systemd': {
      const s = t.row;
      if (s.kind === 'exec') return lines(s.path, s.command, s.line, s.mtime, 'command');
      if (s.kind === 'unit' || s.kind === 'generator') return [file(s.path, s.sha256, s.mtime)];
      if (s.kind === 'link' && s.linkFinal) return [{ ...file(s.linkFinal, null, s.mtime, 'linkFinal'), evidence: { path: s.path, linkFinal: s.linkFinal } }];
      return [];
    }
    case 'init-scripts': {
      const r = t.row;
      if (r.kind === 'rc-local-line') return lines(r.path, r.raw, r.line, r.mtime, 'raw');
      return [...lines(r.path, r.firstLines, 1, r.mtime, 'firstLines'), file(r.path, r.sha256, r.mtime)];
    }
    case 'autostart': {
      const a = t.row;
      const out = a.command ? lines(a.path, a.command, a.line, a.mtime, 'command') : lines(a.path, a.firstLines, 1, a.mtime, 'firstLines');
      out.push(file(a.path, a.sha256, a.mtime));
      return out;
    }
    case 'shell-startup': {
      const s = t.row;
      return s.kind === 'line' ? lines(s.path, s.raw, s.lineNumber, s.mtime, 'raw') : [file(s.path, s.sha256, s.mtime)];
    }
    case 'ssh-keys': {
      const k = t.row;
      if (k.kind === 'key') return lines(k.path, [k.forcedCommand, k.from, k.comment].filter(Boolean).join(' '), k.lineNumber, k.mtime, 'options/comment');
      return k.kind === 'file' ? [file(k.path, k.sha256, k.mtime)] : [];
    }
    case 'sudoers': {
      const s = t.row;
      return s.kind === 'spec' || s.kind === 'alias' || s.kind === 'defaults' ? lines(s.path, s.raw, s.lineNumber, s.mtime, 'raw') : [];
    }
    default:
      return [];
  }
}

/** The collectors IOC rules read (logs are fed line by line to iocLogMatcher instead). */
export const OBSERVED = [
  'processes',
  'hidden-processes',
  'sockets',
  'logins',
  'temp-files',
  'file-scan',
  'packages',
  'kernel-modules',
  'pam',
  'preload',
  'cron',
  'systemd',
  'init-scripts',
  'autostart',
  'shell-startup',
  'ssh-keys',
  'sudoers',
] as const;
