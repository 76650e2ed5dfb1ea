import { Command } from '@oclif/core';
import { logErr, termSafe } from './terminal.js';
import { UserError, errorMessage } from './user-error.js';

/**
 * Every goldhour command fails the same way: one line on stderr and a
 * documented exit code, never a stack trace (GOLDHOUR_DEBUG=1 shows it).
 */
export abstract class BaseCommand extends Command {
  override async init(): Promise<void> {
    // After an SSH drop the terminal is gone: a failed write to it must not crash a run that is sealing evidence.
    process.stderr.on('error', () => undefined);
    await super.init();
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    if (process.env.GOLDHOUR_DEBUG) logErr(err.stack ?? String(err));
    if (err instanceof UserError) {
      logErr(`goldhour ${this.id}: ${termSafe(err.message)}`);
      process.exitCode = err.exitCode;
      return;
    }
    if (err.oclif?.exit !== undefined) {
      // oclif's own parse errors (unknown flag, missing argument) and this.exit()
      if (err.oclif.exit !== 0) logErr(`goldhour ${this.id}: ${termSafe(oneLine(err.message))}`);
      process.exitCode = err.oclif.exit;
      return;
    }
    logErr(`goldhour ${this.id}: internal error: ${termSafe(firstLine(errorMessage(err)))}`);
    process.exitCode = 1;
  }
}

/** oclif's parse errors span lines (the missing argument's name is on the second); fold them into one. */
function oneLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('See more help'))
    .join(' ');
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim() !== '')?.trim() ?? s;
}

export function splitList(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map((s) => s.trim()).filter(Boolean);
}
