import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { termSafe } from '../../lib/terminal.js';
import { UserError, errnoCode, errorMessage } from '../../lib/user-error.js';

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

/** Where the embedded addon was written and removed, for the custody log; null outside the single executable. */
export interface EngineExtraction {
  wrote: string;
  sha256: string;
  bytes: number;
  removed: string[];
}

export interface LoadedEngine {
  engine: YaraXModule;
  extraction: EngineExtraction | null;
}

export interface LoadEngineOptions {
  /** Directory to write the embedded addon under (the bundle's parent); TMPDIR when absent. */
  tmpParent?: string | null;
}

let loaded: Promise<LoadedEngine> | null = null;

/**
 * Loads the YARA-X addon once. From a directory install it is the npm
 * package's native binary (Linux x86-64 with glibc; macOS). Inside the single
 * executable the binary is an embedded asset: a shared object can only be
 * loaded from a file, so it is written into a fresh 0700 directory under the
 * bundle's parent directory (or TMPDIR), loaded, and the file and directory
 * deleted at once (the mapping stays). Where that directory is mounted noexec
 * the load fails with a message saying so.
 */
export function loadEngine(opts: LoadEngineOptions = {}): Promise<LoadedEngine> {
  loaded ??= load(opts);
  return loaded;
}

async function load(opts: LoadEngineOptions): Promise<LoadedEngine> {
  const sea = await import('node:sea').catch(() => null);
  if (sea?.isSea()) return fromSeaAsset(sea.getRawAsset.bind(sea), opts.tmpParent ?? null);
  // A name in a variable: esbuild must not try to bundle the addon into the single executable.
  const name = PACKAGE;
  try {
    const mod = (await import(name)) as { default?: YaraXModule } & YaraXModule;
    return { engine: mod.default ?? mod, extraction: null };
  } catch (err) {
    throw new UserError(`--yara: the YARA engine (${PACKAGE}) could not be loaded: ${errorMessage(err).split('\n')[0]} (it ships for Linux x86-64 with glibc)`);
  }
}

async function fromSeaAsset(getRawAsset: (key: string) => string | ArrayBuffer, bundleParent: string | null): Promise<LoadedEngine> {
  const parent = bundleParent ?? os.tmpdir();
  const remedy = bundleParent ? 'write the bundle (--out) to a filesystem that allows executables' : 'set TMPDIR to a filesystem that allows executables';
  let bytes: ArrayBuffer | string;
  try {
    bytes = getRawAsset(SEA_ASSET);
  } catch {
    throw new UserError('--yara: this build of goldhour does not carry the YARA engine');
  }
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : new Uint8Array(bytes);
  let dir: string;
  try {
    // mkdtemp makes the directory 0700
    dir = await fsp.mkdtemp(path.join(parent, '.goldhour-yara-'));
  } catch (err) {
    throw new UserError(`--yara: cannot make a directory for the YARA engine in ${termSafe(parent)} (${errnoCode(err) ?? 'EIO'})`);
  }
  const file = path.join(dir, SEA_ASSET);
  try {
    try {
      await fsp.writeFile(file, data, { mode: 0o500, flag: 'wx' });
    } catch (err) {
      throw new UserError(`--yara: cannot write the YARA engine (${Math.ceil(data.byteLength / 1048576)} MiB) to ${termSafe(parent)} (${errnoCode(err) ?? 'EIO'})`);
    }
    const mod = { exports: {} as YaraXModule };
    try {
      process.dlopen(mod, file, os.constants.dlopen.RTLD_NOW);
    } catch (err) {
      const noexec = /failed to map segment|operation not permitted/i.test(errorMessage(err));
      throw new UserError(
        noexec
          ? `--yara: the YARA engine cannot be loaded from ${termSafe(parent)}, which is mounted noexec; ${remedy}`
          : `--yara: the YARA engine could not be loaded: ${errorMessage(err).split('\n')[0]}`,
      );
    }
    return { engine: mod.exports, extraction: { wrote: file, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.byteLength, removed: [file, dir] } };
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
