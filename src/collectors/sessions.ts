import { z } from 'zod';
import { UTMP_RECORD_SIZE, parseUtmp } from '../host/utmp.js';
import { defineCollector } from './collector.js';

const Row = z.object({
  user: z.string().describe('login name recorded in utmp'),
  line: z.string().describe('terminal (pts/0, tty1) or the login service'),
  host: z.string().describe('remote host or address the login program recorded (attacker-influenced)'),
  address: z.string().nullable().describe('remote IP address in binary form, when recorded'),
  pid: z.number().int().describe('pid of the login session\'s process'),
  pidAlive: z.boolean().nullable().describe('whether that pid still exists (live host only)'),
  loginTime: z.string().nullable().describe('UTC time the session started'),
  utmpFile: z.string().describe('the utmp file the record came from'),
  offset: z.number().int().describe('byte offset of the record in that file'),
});

const UTMP_PATHS = ['/run/utmp', '/var/run/utmp'];

export const sessionsCollector = defineCollector({
  name: 'sessions',
  title: 'Users logged in now',
  description:
    'Sessions open at collection time, from the utmp file read and parsed directly (not `who`, which an intruder can ' +
    'replace). A session whose pid is gone, or whose record has an odd line or host, suggests a tampered utmp. The raw ' +
    'utmp is copied. Past logins (wtmp, btmp, lastlog) are not read here.',
  preconditions: 'Any host with glibc-format utmp (x86-64, aarch64). utmp lives on tmpfs: on a dead box it is usually gone.',
  timeoutMs: 10_000,
  row: Row,
  async *collect(ctx) {
    for (const file of UTMP_PATHS) {
      const read = await ctx.read(file, { maxBytes: 64 * 1024 * 1024 });
      if (!read) continue;
      const { records, trailingBytes } = parseUtmp(read.data);
      if (trailingBytes > 0) ctx.error(file, 'ETORN', `${trailingBytes} bytes after the last whole ${UTMP_RECORD_SIZE}-byte record`);
      for (const rec of records) {
        if (rec.type !== 'USER_PROCESS') continue;
        yield {
          user: rec.user,
          line: rec.line,
          host: rec.host,
          address: rec.address,
          pid: rec.pid,
          pidAlive: ctx.host.live ? pidExists(rec.pid) : null,
          loginTime: rec.time,
          utmpFile: file,
          offset: rec.offset,
        };
      }
      return; // /var/run is a link to /run on modern systems: one file, read once
    }
  },
});

function pidExists(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
