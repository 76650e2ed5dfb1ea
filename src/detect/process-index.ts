import type { RowOf } from './rows.js';

/** What rules that join on a pid need to know about a process; kept for every process, so small. */
export interface ProcessBrief {
  pid: number;
  ppid: number | null;
  ancestry: number[];
  comm: string | null;
  exe: string | null;
  exeDeleted: boolean | null;
  argv0: string | null;
  uid: number | null;
  euid: number | null;
  kernelThread: boolean | null;
  inContainer: boolean | null;
}

/**
 * The process table, built from the processes rows as they pass. Sockets run
 * after processes, so socket rules can ask who holds a socket; rules about
 * process trees read it once every process has been seen.
 */
export class ProcessIndex {
  private readonly byPid = new Map<number, ProcessBrief>();

  add(row: RowOf<'processes'>): void {
    this.byPid.set(row.pid, {
      pid: row.pid,
      ppid: row.ppid,
      ancestry: row.ancestry,
      comm: row.comm,
      exe: row.exe,
      exeDeleted: row.exeDeleted,
      argv0: row.argv[0] ?? null,
      uid: row.uid,
      euid: row.euid,
      kernelThread: row.kernelThread,
      inContainer: row.inContainer,
    });
  }

  get(pid: number): ProcessBrief | undefined {
    return this.byPid.get(pid);
  }

  all(): IterableIterator<ProcessBrief> {
    return this.byPid.values();
  }

  get size(): number {
    return this.byPid.size;
  }
}
