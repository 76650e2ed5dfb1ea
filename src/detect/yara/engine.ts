import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, errorMessage } from '../../lib/user-error.js';

/** What goldhour uses of @litko/yara-x (YARA-X, VirusTotal's Rust rewrite of YARA, as a Node addon). */
export interface YaraXMatch {
  ruleIdentifier: string;
  namespace: string;
  meta: object;
  tags: string[];
  matches: { offset: number; length: number; identifier: string }[];
}

export interface YaraXRules {
  scan(data: Buffer): YaraXMatch[];
  setMaxMatchesPerPattern(n: number): void;
}

export interface YaraXDiagnostic {
  code: string;
  message: string;
  line?: number;
}

export interface YaraXCompilerOptions {
  includeDirectories?: string[];
  enableIncludes?: boolean;
}

export interface YaraXModule {
  compile(source: string, options?: YaraXCompilerOptions): YaraXRules;
  validate(source: string, options?: YaraXCompilerOptions): { errors: YaraXDiagnostic[]; warnings: YaraXDiagnostic[] };
}

/** The name of the addon inside the single executable (scripts/build-sea.js puts it there as a SEA asset). */
export const SEA_ASSET = 'yara-x.node';
const PACKAGE = '@litko/yara-x';

let loaded: Promise<YaraXModule> | null = null;

/**
 * Loads the YARA-X addon once. From a directory install it is the npm
 * package's native binary (Linux x86-64 with glibc; macOS). Inside the single
 * executable the binary is an embedded asset: a shared object can only be
 * loaded from a file, so it is written into a fresh 0700 directory under
 * TMPDIR, loaded, and deleted at once (the mapping stays). Where that
 * directory is mounted noexec the load fails with a message saying so.
 */
export function loadEngine(): Promise<YaraXModule> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<YaraXModule> {
  const sea = await import('node:sea').catch(() => null);
  if (sea?.isSea()) return fromSeaAsset(sea.getRawAsset.bind(sea));
  // A name in a variable: esbuild must not try to bundle the addon into the single executable.
  const name = PACKAGE;
  try {
    const mod = (await import(name)) as { default?: YaraXModule } & YaraXModule;
    return mod.default ?? mod;
  } catch (err) {
    throw new UserError(`--yara: the YARA engine (${PACKAGE}) could not be loaded: ${errorMessage(err).split('\n')[0]} (it ships for Linux x86-64 with glibc)`);
  }
}

async function fromSeaAsset(getRawAsset: (key: string) => string | ArrayBuffer): Promise<YaraXModule> {
  let bytes: ArrayBuffer | string;
  try {
    bytes = getRawAsset(SEA_ASSET);
  } catch {
    throw new UserError('--yara: this build of goldhour does not carry the YARA engine');
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'goldhour-yara-'));
  try {
    const file = path.join(dir, SEA_ASSET);
    await fsp.writeFile(file, typeof bytes === 'string' ? bytes : new Uint8Array(bytes), { mode: 0o500, flag: 'wx' });
    const mod = { exports: {} as YaraXModule };
    try {
      process.dlopen(mod, file, os.constants.dlopen.RTLD_NOW);
    } catch (err) {
      const noexec = /failed to map segment/.test(errorMessage(err));
      throw new UserError(
        noexec
          ? `--yara: the YARA engine cannot be loaded from ${os.tmpdir()}, which is mounted noexec; set TMPDIR to a directory on a filesystem that allows executables`
          : `--yara: the YARA engine could not be loaded: ${errorMessage(err).split('\n')[0]}`,
      );
    }
    return mod.exports;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
