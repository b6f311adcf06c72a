// The command line on good and bad input: exit statuses, messages, the trace file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'dist/hyperstep.js');
const tmp = mkdtempSync(join(tmpdir(), 'hyperstep-cli-'));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function flat(name: string, bytes: number[]): string {
  const f = join(tmp, name);
  writeFileSync(f, Uint8Array.from(bytes));
  return f;
}

test('hyperstep run hello.elf prints the guest output and exits as isa-debug-exit says', () => {
  const r = run(['run', 'guests/hello/hello.elf']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^Hello from Hyperstep!\n/);
  assert.match(r.stdout, /mem_upper = 129920 KiB/); // 128 MiB by default, as QEMU
  assert.equal(r.stderr, '');
});

test('--help documents every option and exit status', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const o of ['--vcpus', '--memory', '--seed', '--quantum', '--cmdline', '--max-instructions', '--trace', 'Exit status']) assert.ok(r.stdout.includes(o), o);
});

test('an unimplemented instruction stops with its disassembly, address and vCPU', () => {
  const r = run(['run', '--format', 'flat', flat('fsin.bin', [0x90, 0xd9, 0xfe])]);
  assert.equal(r.status, 6);
  assert.match(r.stderr, /unsupported instruction `fsin` \(d9 fe\) at cs=0x[0-9a-f]+ rip=0x00100001 \(protected32\) on vCPU 0/);
});

test('all vCPUs halted with interrupts off is a stop with its own status', () => {
  const r = run(['run', '--format', 'flat', flat('hlt.bin', [0xfa, 0xf4])]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /all vCPUs halted .*vCPU 0 at .*rip=0x00100002.* with interrupts disabled/);
});

test('a triple fault is reported as a stop of that vCPU', () => {
  // lidt [0x100010] (a zero-limit IDT); ud2 -> #UD -> #GP (IDT limit) -> #DF -> triple fault.
  const code = [0x0f, 0x01, 0x1d, 0x10, 0x00, 0x10, 0x00, 0x0f, 0x0b];
  while (code.length < 0x10) code.push(0x90);
  code.push(0, 0, 0, 0, 0, 0);
  const r = run(['run', '--format', 'flat', flat('tf.bin', code)]);
  assert.equal(r.status, 4);
  assert.match(r.stderr, /triple fault on vCPU 0/);
});

test('--max-instructions stops a spinning guest', () => {
  const r = run(['run', '--format', 'flat', '--max-instructions', '1000', flat('spin.bin', [0xeb, 0xfe])]);
  assert.equal(r.status, 8);
  assert.match(r.stderr, /stopped after 1000 instructions/);
});

test('a malformed image is refused with the header and field named', () => {
  const elf = new Uint8Array(64);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  elf[18] = 0x28; // e_machine = ARM
  const f = join(tmp, 'arm.elf');
  writeFileSync(f, elf);
  const r = run(['run', f]);
  assert.equal(r.status, 12);
  assert.match(r.stderr, /e_machine/);
  const missing = run(['run', join(tmp, 'no-such-file')]);
  assert.equal(missing.status, 12);
  assert.match(missing.stderr, /cannot read/);
});

test('bad command lines get a message and status 14', () => {
  for (const args of [['run'], ['run', 'x', '--bogus'], ['run', 'x', '--vcpus', 'many'], ['frobnicate']]) {
    const r = run(args);
    assert.equal(r.status, 14, args.join(' '));
    assert.match(r.stderr, /^hyperstep: /);
  }
  assert.equal(run(['run', 'guests/hello/hello.elf', '--vcpus', '2000']).status, 14);
});

test('--trace writes every event as JSON lines, ending with the stop', () => {
  const f = join(tmp, 'trace.jsonl');
  const r = run(['run', 'guests/hello/hello.elf', '--trace', f]);
  assert.equal(r.status, 1);
  const lines = readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length > 100);
  assert.deepEqual(lines.map((e) => e.seq), lines.map((_, k) => k));
  assert.ok(lines.some((e) => e.type === 'serial.out' && e.data.byte === 'H'.charCodeAt(0)));
  const last = lines[lines.length - 1];
  assert.equal(last.type, 'stop');
  assert.equal(last.data.reason, 'debug-exit');
});

test('--cmdline reaches the guest through multiboot', () => {
  const r = run(['run', 'guests/hello/hello.elf', '--cmdline', 'answer=42']);
  assert.match(r.stdout, /cmdline = "hello.elf answer=42"/);
});
