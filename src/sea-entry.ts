/**
 * Entry point of the single-file executable (dist/goldhour, a Node SEA), built by
 * scripts/build-sea.js. Not used by bin/run.js.
 *
 * A SEA has no package.json on disk and its `require` loads built-in modules only, so
 * oclif's usual start-up (find package.json, then `require` the explicit command target
 * from disk) cannot work. Instead this entry:
 *  1. makes os.homedir()/os.userInfo() survive a host with no HOME and a uid without a
 *     passwd entry (oclif calls both while loading its config);
 *  2. hands oclif the package.json embedded at build time and the COMMANDS map of
 *     src/commands/index.ts, so nothing is looked up on disk: no plugins, no manifest,
 *     no command files next to the executable are ever loaded.
 *
 * It must stay free of top-level await and of anything that needs the module's own URL
 * (the bundle is CommonJS).
 * Relies on one internal of @oclif/core 4.14 (Plugin's private `commandCache`); the
 * version is pinned exactly in package.json and test/e2e/sea.test.ts checks that
 * `--help` lists the commands.
 */
import os from 'node:os';
import path from 'node:path';

/** package.json fields oclif needs, put in by esbuild's `define` (scripts/build-sea.js). */
declare const GOLDHOUR_SEA_PJSON: { name: string; version: string; oclif: Record<string, unknown> } & Record<string, unknown>;

installOsFallbacks();
main().catch((err: unknown) => {
  process.stderr.write(`goldhour: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

async function main(): Promise<void> {
  // Loaded only now, after the fallbacks are in place (esbuild turns these into
  // in-bundle requires: no real dynamic import happens inside the SEA).
  const [{ Plugin, execute }, { COMMANDS }] = await Promise.all([import('@oclif/core'), import('./commands/index.js')]);
  const pjson = GOLDHOUR_SEA_PJSON;
  const root = path.dirname(process.execPath);

  const plugin = new Plugin({ root, pjson: pjson as never, isRoot: true, ignoreManifest: true });
  // Supply the command map before oclif looks for its explicit target on disk.
  (plugin as unknown as { commandCache: Record<string, unknown> }).commandCache = COMMANDS;
  await plugin.load();
  if (plugin.commands.length !== Object.keys(COMMANDS).length) {
    throw new Error(`oclif found ${plugin.commands.length} of ${Object.keys(COMMANDS).length} commands (has @oclif/core changed?)`);
  }

  await execute({
    args: process.argv.slice(2),
    loadOptions: { root, pjson: pjson as never, plugins: new Map([[plugin.name, plugin]]), userPlugins: false, devPlugins: false },
  });
}

/**
 * os.homedir() throws when HOME is unset and the uid has no passwd entry; os.userInfo()
 * throws without a passwd entry. Keep the real answers when there are any.
 */
function installOsFallbacks(): void {
  const realHomedir = os.homedir.bind(os);
  const realUserInfo = os.userInfo.bind(os) as (o?: { encoding: BufferEncoding | 'buffer' }) => os.UserInfo<string | Buffer>;
  const homedir = (): string => {
    try {
      const h = realHomedir();
      if (h) return h;
    } catch {
      // no HOME and no passwd entry
    }
    return process.env.HOME || os.tmpdir();
  };
  const userInfo = (options?: { encoding: BufferEncoding | 'buffer' }): os.UserInfo<string | Buffer> => {
    try {
      return realUserInfo(options);
    } catch {
      const uid = process.getuid?.() ?? -1;
      const gid = process.getgid?.() ?? -1;
      const enc = (s: string): string | Buffer => (options?.encoding === 'buffer' ? Buffer.from(s) : s);
      return { uid, gid, username: enc(String(uid)), homedir: enc(homedir()), shell: null };
    }
  };
  (os as { homedir: typeof os.homedir }).homedir = homedir;
  (os as unknown as { userInfo: typeof userInfo }).userInfo = userInfo;
}
