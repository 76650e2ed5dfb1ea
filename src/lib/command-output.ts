/**
 * The name under commands/COLLECTOR/ that an external program's output gets
 * (STEM.stdout, STEM.stderr): its command line made safe as a file name. It
 * is derived from the command line alone so that a bundle's reader finds the
 * output of a command a row names (the logs collector's journal export).
 */
export function commandOutputStem(commandLine: string): string {
  return commandLine.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
}
