import path from 'node:path';
import { z } from 'zod';
import { includedirReads, parseSudoers, type SudoersEntry } from '../host/sudoers.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { FILE_COLUMNS, NO_FILE, describeRawEntry, describeFile, lineText, listDir, readUsers, type DescribedFile } from './persistence-files.js';

const CmndSpecRow = z.object({
  hosts: z.array(z.string()).describe('hosts the command applies on'),
  runAsUsers: z.array(z.string()).nullable().describe('run-as users; null when not given (root)'),
  runAsGroups: z.array(z.string()).nullable().describe('run-as groups; null when not given'),
  tags: z.array(z.string()).describe('NOPASSWD, SETENV, NOEXEC… in force for this command'),
  options: z.array(z.string()).describe('CWD=, CHROOT=, TIMEOUT=, ROLE=, TYPE=… options'),
  digest: z.string().nullable().describe('sha256:… digest the command must match, if any'),
  command: z.string().describe('the command, alias or ALL; "!" negates'),
});

const Row = z.object({
  kind: z
    .enum(['file', 'spec', 'defaults', 'alias', 'include', 'bad-line'])
    .describe('file: a sudoers file; spec: a user specification (who may run what as whom); defaults: a Defaults line; alias: a User_/Runas_/Host_/Cmnd_Alias definition; include: an include directive; bad-line: a line that does not parse'),
  ...FILE_COLUMNS,
  readBySudo: z.boolean().nullable().describe('file rows: whether sudo reads the file (reached from /etc/sudoers through includes; #includedir skips names with a "." or ending in "~")'),
  includedBy: z.string().nullable().describe('file rows: the file whose include directive reaches this one; null for /etc/sudoers and for files nothing includes'),
  lineNumber: z.number().int().nullable().describe('1-based line in path (first line of a line continued with \\)'),
  raw: z.string().nullable().describe('the line as written, continuations included (invalid UTF-8 as %XX)'),
  users: z.array(z.string()).nullable().describe('spec rows: the users, %groups, #uids, +netgroups or aliases the line grants to'),
  hosts: z.array(z.string()).nullable().describe('spec rows: every host of the line'),
  runAsUsers: z.array(z.string()).nullable().describe('spec rows: every run-as user named on the line (null when none: root only)'),
  runAsGroups: z.array(z.string()).nullable().describe('spec rows: every run-as group named on the line'),
  tags: z.array(z.string()).nullable().describe('spec rows: every tag on the line (NOPASSWD, SETENV, NOEXEC…)'),
  commands: z.array(z.string()).nullable().describe('spec rows: every command of the line (ALL, a path with arguments, an alias; "!" negates)'),
  specs: z.array(CmndSpecRow).nullable().describe('spec rows: each command with the hosts, run-as, tags and options that apply to it'),
  defaultsScope: z.enum(['all', 'host', 'user', 'command', 'runas']).nullable().describe('defaults rows: what the Defaults entry is bound to'),
  binding: z.string().nullable().describe('defaults rows: the host, user, command or run-as list it is bound to'),
  settings: z.array(z.string()).nullable().describe('defaults rows: each setting as written (env_keep+=…, !authenticate, secure_path=…)'),
  aliasType: z.string().nullable().describe('alias rows: User_Alias, Runas_Alias, Host_Alias, Cmnd_Alias or Cmd_Alias'),
  aliasName: z.string().nullable().describe('alias rows: the alias name'),
  members: z.array(z.string()).nullable().describe('alias rows: its members'),
  directive: z.string().nullable().describe('include rows: #include, @include, #includedir or @includedir'),
  target: z.string().nullable().describe('include rows: the file or directory named, with %h expanded'),
  reason: z.string().nullable().describe('bad-line rows: why it does not parse'),
});

type Row = z.infer<typeof Row>;

const BLANK = {
  readBySudo: null,
  includedBy: null,
  lineNumber: null,
  raw: null,
  users: null,
  hosts: null,
  runAsUsers: null,
  runAsGroups: null,
  tags: null,
  commands: null,
  specs: null,
  defaultsScope: null,
  binding: null,
  settings: null,
  aliasType: null,
  aliasName: null,
  members: null,
  directive: null,
  target: null,
  reason: null,
};

const MAX_DEPTH = 32;
const uniq = (xs: string[]) => [...new Set(xs)];

function entryRow(e: SudoersEntry, common: Pick<Row, 'path' | 'pathBase64'>, enc: (s: string) => string, target: string | null): Row {
  const base = { ...NO_FILE, ...common, ...BLANK, lineNumber: e.line, raw: enc(e.raw) };
  const encAll = (xs: string[]) => xs.map(enc);
  switch (e.kind) {
    case 'spec': {
      const specs = e.specs.map((s) => ({
        hosts: encAll(s.hosts),
        runAsUsers: s.runAsUsers && encAll(s.runAsUsers),
        runAsGroups: s.runAsGroups && encAll(s.runAsGroups),
        tags: s.tags,
        options: encAll(s.options),
        digest: s.digest && enc(s.digest),
        command: enc(s.command),
      }));
      const runAs = specs.flatMap((s) => s.runAsUsers ?? []);
      return {
        kind: 'spec',
        ...base,
        users: encAll(e.users),
        hosts: uniq(specs.flatMap((s) => s.hosts)),
        runAsUsers: specs.some((s) => s.runAsUsers) ? uniq(runAs) : null,
        runAsGroups: specs.some((s) => s.runAsGroups) ? uniq(specs.flatMap((s) => s.runAsGroups ?? [])) : null,
        tags: uniq(specs.flatMap((s) => s.tags)),
        commands: specs.map((s) => s.command),
        specs,
      };
    }
    case 'defaults':
      return { kind: 'defaults', ...base, defaultsScope: e.scope, binding: e.binding && enc(e.binding), settings: encAll(e.settings) };
    case 'alias':
      return { kind: 'alias', ...base, aliasType: e.aliasType, aliasName: enc(e.name), members: encAll(e.members) };
    case 'include':
      return { kind: 'include', ...base, directive: e.directive, target };
  }
}

async function shortHostname(ctx: CollectorContext): Promise<string | null> {
  const r = (await ctx.readProc('sys/kernel/hostname')) ?? (await ctx.read('/etc/hostname', { keep: false }));
  const h = r?.data.toString('utf8').split('\n')[0]?.trim();
  return h ? h.split('.')[0]! : null;
}

export const sudoersCollector = defineCollector({
  name: 'sudoers',
  title: 'sudo rules',
  description:
    'Who may run what as whom through sudo: /etc/sudoers and every file its #include/@include and #includedir/@includedir ' +
    'lines reach (followed as sudo does, with %h expanded), plus every file in /etc/sudoers.d even if nothing includes it ' +
    '(marked readBySudo false, like names with a "." that #includedir skips). One row per user specification with its users, ' +
    'hosts, run-as users and groups, tags and commands, per Defaults line and per alias, with the raw line. Look for ' +
    'NOPASSWD rules, ALL commands granted to service or unexpected accounts, SETENV or !env_reset (LD_PRELOAD through sudo), ' +
    'commands that give a shell (editors, pagers, interpreters, find, tar), a recently added file in sudoers.d, and files ' +
    'with odd owners or modes (sudo ignores a world-writable file; an intruder\'s file may be). Raw copies of every file are kept.',
  preconditions: 'Any host with sudo; root to read /etc/sudoers (mode 0440). Works the same on a mounted image (--root).',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const { names } = await readUsers(ctx);
    const host = await shortHostname(ctx);
    const visited = new Set<string>();

    async function* file(p: string, d: DescribedFile, readBySudo: boolean, includedBy: string | null, depth: number): AsyncGenerator<Row> {
      yield { kind: 'file', ...d.columns, ...BLANK, readBySudo, includedBy };
      if (!d.read) return;
      const { entries, bad } = parseSudoers(d.read.data.toString('latin1'));
      const enc = (s: string) => lineText(Buffer.from(s, 'latin1')).text;
      const common = { path: d.columns.path, pathBase64: d.columns.pathBase64 };
      for (const b of bad) yield { kind: 'bad-line', ...NO_FILE, ...common, ...BLANK, lineNumber: b.line, raw: enc(b.raw), reason: b.reason };
      for (const e of entries) {
        let target: string | null = null;
        if (e.kind === 'include') {
          const named = enc(e.path).replace(/%h/g, host ?? '%h');
          target = named.startsWith('/') ? named : path.posix.join(path.posix.dirname(p), named);
        }
        yield entryRow(e, common, enc, target);
        if (e.kind !== 'include' || target === null || !readBySudo) continue;
        if (depth >= MAX_DEPTH) {
          ctx.error(p, 'ELOOP', `line ${e.line}: includes nest deeper than ${MAX_DEPTH}; not followed`);
          continue;
        }
        if (e.directive.endsWith('includedir')) {
          for (const ent of await listDir(ctx, target)) {
            if (visited.has(ent.hostPath)) continue;
            visited.add(ent.hostPath);
            const sub = await describeRawEntry(ctx, target, ent, names);
            if (!sub || sub.columns.fileType === 'directory') continue;
            yield* file(ent.hostPath, sub, includedirReads(ent.name), p, depth + 1);
          }
        } else if (!visited.has(target)) {
          visited.add(target);
          const sub = await describeFile(ctx, target, names);
          if (sub) yield* file(target, sub, true, p, depth + 1);
        }
      }
    }

    visited.add('/etc/sudoers');
    const main = await describeFile(ctx, '/etc/sudoers', names);
    if (main) yield* file('/etc/sudoers', main, true, null, 0);
    // files nothing includes: sudo ignores them, but an intruder may have dropped one (or broken the #includedir line)
    for (const ent of await listDir(ctx, '/etc/sudoers.d')) {
      if (visited.has(ent.hostPath)) continue;
      visited.add(ent.hostPath);
      const d = await describeRawEntry(ctx, '/etc/sudoers.d', ent, names);
      if (!d || d.columns.fileType === 'directory') continue;
      yield* file(ent.hostPath, d, false, null, MAX_DEPTH);
    }
  },
});
