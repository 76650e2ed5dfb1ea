/**
 * Process memory with real processes: a child holding a random marker is
 * dumped into a real case bundle; the marker must be in the core at the
 * address the child reported, and readelf and gdb must read the core.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PT_LOAD, parseElfHeader, parseProgramHeaders } from '../../src/acquire/memory/elf64.js';
import { dumpProcess, type ProcessDumpOptions } from '../../src/acquire/memory/process-dump.js';
import { ProcessSidecar } from '../../src/acquire/memory/sidecar.js';
import { CaseWriter } from '../../src/evidence/case-writer.js';
import { Manifest } from '../../src/evidence/manifest.js';
import { Host } from '../../src/host/host.js';
import { parseStat } from '../../src/host/proc-pid.js';
import { buildCaseHeader } from '../../src/pipeline/case-header.js';
import { markerChild } from '../fixtures/memory/child.js';
import { PROJECT, tempDir } from '../helpers.js';

const GDB = ['/usr/bin/gdb', '/bin/gdb'].find((p) => existsSync(p)) ?? null;

async function dump(t: { after(fn: () => void): void }, pid: number, opts: Partial<ProcessDumpOptions> = {}) {
  const out = path.join(tempDir(t), 'case');
  const header = await buildCaseHeader(await Host.open(), { caseId: 't', examiner: undefined, commandLine: ['t'], version: '0.0.0', codeRoot: PROJECT });
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6, archiveHash: false }, header);
  const result = await dumpProcess(writer, pid, { freeze: false, signal: new AbortController().signal, progress: null, ...opts });
  await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
  const sidecar = ProcessSidecar.parse(JSON.parse(await fsp.readFile(path.join(out, `acquired/${pid}/core.json`), 'utf8')));
  const manifest = Manifest.parse(JSON.parse(await fsp.readFile(path.join(out, 'manifest.json'), 'utf8')));
  return { out, result, sidecar, manifest, core: path.join(out, `acquired/${pid}/core`) };
}

function stateOf(pid: number): string | undefined {
  return parseStat(readFileSync(`/proc/${pid}/stat`))?.state;
}

/** The file offset of a virtual address, from the core's own program headers. */
function fileOffsetOf(core: Buffer, vaddr: number): number | null {
  const h = parseElfHeader(core);
  const phdrs = parseProgramHeaders(h, core.subarray(Number(h.phoff)), h.phnumField);
  const seg = phdrs.find((p) => p.type === PT_LOAD && BigInt(vaddr) >= p.vaddr && BigInt(vaddr) < p.vaddr + p.filesz);
  return seg ? Number(seg.offset) + vaddr - Number(seg.vaddr) : null;
}

describe('process memory as an ELF core', () => {
  it('holds the marker at the address the process reported, stopped and resumed around the dump', async (t) => {
    const child = await markerChild(t);
    const { out, result, sidecar, manifest, core } = await dump(t, child.pid, { freeze: true });
    assert.equal(result.status, 'complete', result.statusReason ?? '');
    const bytes = await fsp.readFile(core);
    const at = fileOffsetOf(bytes, child.address);
    assert.notEqual(at, null, 'no PT_LOAD with bytes covers the marker address');
    assert.equal(bytes.subarray(at!, at! + 4 * child.marker.length).toString(), child.marker.repeat(4));

    assert.equal(sidecar.freeze?.method, 'SIGSTOP');
    assert.ok(sidecar.freeze?.resumedAt, 'resume time recorded');
    assert.notEqual(stateOf(child.pid), 'T', 'the process was left stopped');

    const vvar = sidecar.regions.filter((r) => r.path.startsWith('[vvar'));
    assert.ok(vvar.length > 0 && vvar.every((r) => r.inCore === 'skipped' && r.note), 'vvar skipped with a note');
    assert.ok(sidecar.regions.some((r) => r.inCore === 'not-resident'), 'untouched reservations are written without bytes');
    const mapped = sidecar.regions.reduce((n, r) => n + Number(BigInt(r.end) - BigInt(r.start)), 0);
    assert.ok(bytes.length < mapped, 'the core is smaller than the address space it describes');

    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.equal(manifest.artifacts.find((a) => a.path === result.core)?.sha256, sha);
    for (const f of ['exe', 'maps', 'smaps', 'status', 'stat', 'cmdline', 'environ', 'auxv', 'fds.json', 'net/tcp', 'net/unix']) {
      assert.ok(existsSync(path.join(out, `acquired/${child.pid}/${f}`)), `${f} missing`);
    }
    assert.ok(readFileSync(path.join(out, `acquired/${child.pid}/exe`)).equals(readFileSync(process.execPath)), 'exe is the running binary');
  });

  it('is read by readelf: one LOAD per mapping kept, and the three notes', async (t) => {
    const child = await markerChild(t);
    const { sidecar, core } = await dump(t, child.pid);
    const segments = execFileSync('readelf', ['-lW', core], { encoding: 'utf8' });
    const loads = segments.split('\n').filter((l) => /^\s+LOAD\s/.test(l)).length;
    assert.equal(loads, sidecar.regions.filter((r) => r.inCore !== 'skipped').length);
    const notes = execFileSync('readelf', ['-n', core], { encoding: 'utf8' });
    for (const n of ['NT_PRPSINFO', 'NT_AUXV', 'NT_FILE']) assert.match(notes, new RegExp(n));
  });

  it('is read by gdb: the marker at its address, the mapped files and the command line', async (t) => {
    if (!GDB) {
      if (process.env.CI) assert.fail('gdb is not installed (scripts/install-test-deps.sh installs it)');
      t.skip('gdb is not installed');
      return;
    }
    const child = await markerChild(t);
    const { core } = await dump(t, child.pid);
    const r = spawnSync(GDB, ['-batch', '-n', '-c', core, '-ex', 'info files', '-ex', 'info proc mappings', '-ex', `x/s 0x${child.address.toString(16)}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`0x${child.address.toString(16)}:\\s+"${child.marker}${child.marker}`));
    assert.match(r.stdout, /Local core dump file:/);
    assert.ok(r.stdout.includes(process.execPath), 'NT_FILE names the node binary');
    assert.match(r.stdout + r.stderr, /Core was generated by `.*marker-child\.cjs/);
  });

  it('marks the dump partial when the process exits in the middle of it', async (t) => {
    const child = await markerChild(t, 256 * 1024 * 1024);
    let killed = false;
    const { result, sidecar, core } = await dump(t, child.pid, {
      onBytes: () => {
        if (killed) return;
        killed = true;
        child.kill();
        // Until the kernel has torn the process down, reads still succeed.
        for (let i = 0; i < 1e6 && existsSync(`/proc/${child.pid}/stat`) && stateOf(child.pid) !== 'Z'; i++);
      },
    });
    assert.equal(result.status, 'partial');
    assert.match(result.statusReason ?? '', /exited during the dump/);
    assert.ok(sidecar.holes.some((h) => h.code === 'EXITED'));
    const h = parseElfHeader(await fsp.readFile(core).then((b) => b.subarray(0, 64)));
    assert.equal(h.type, 4);
  });

  it('resumes a frozen process when the dump is interrupted, and marks it partial', async (t) => {
    const child = await markerChild(t, 64 * 1024 * 1024);
    const ctl = new AbortController();
    let stateDuring: string | undefined;
    const { result, sidecar } = await dump(t, child.pid, {
      freeze: true,
      signal: ctl.signal,
      onBytes: () => {
        stateDuring ??= stateOf(child.pid);
        ctl.abort('SIGINT');
      },
    });
    assert.equal(stateDuring, 'T', 'the process was stopped during the dump');
    assert.notEqual(stateOf(child.pid), 'T', 'the process was left stopped');
    assert.equal(result.status, 'partial');
    assert.ok(sidecar.holes.some((h) => h.code === 'INTERRUPTED'));
  });
});
