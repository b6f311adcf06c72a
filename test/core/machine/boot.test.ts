// End to end through the loaders: an ELF64 entered in long mode, flat binaries in real and
// protected mode, each printing on the UART and leaving through isa-debug-exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../../core/machine';
import { buildElf } from '../loader/images';

/** out 0x3f8 for each character, then out 0xf4 with eax = 0 (16/32/64-bit encodings agree). */
function printAndExit(text: string, bits: 16 | 32 | 64): number[] {
  const opsz = bits === 16 ? [0x66] : [];
  const code: number[] = [0xba, 0xf8, 0x03, ...(bits === 16 ? [] : [0x00, 0x00])]; // mov (e)dx, 0x3f8
  if (bits === 64) code.splice(0, code.length, 0xba, 0xf8, 0x03, 0x00, 0x00);
  for (const ch of text) code.push(0xb0, ch.charCodeAt(0), 0xee); // mov al, c; out dx, al
  code.push(...(bits === 16 ? [0xba, 0xf4, 0x00] : [0xba, 0xf4, 0x00, 0x00, 0x00])); // mov (e)dx, 0xf4
  code.push(...opsz, 0x31, 0xc0, ...opsz, 0xef); // xor eax, eax; out dx, eax
  return code;
}

function run(m: Machine): { out: string; status: number | undefined; reason: string | undefined } {
  let out = '';
  m.onSerial = (b) => { out += String.fromCharCode(b); };
  const stop = m.run();
  return { out, status: stop?.exitCode, reason: stop?.reason };
}

test('an ELF64 starts in 64-bit long mode with identity paging and runs 64-bit code', () => {
  // mov rax, imm64; shr rax, 32; cmp eax, 0x11223344; jne fail; then print and exit.
  const check = [0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x48, 0xc1, 0xe8, 0x20, 0x3d, 0x44, 0x33, 0x22, 0x11, 0x75, 0xfe];
  const code = Uint8Array.from([...check, ...printAndExit('64\n', 64)]);
  const elf = buildElf({ cls: 64, entry: 0x200000, segments: [{ paddr: 0x200000, data: code }] });
  const m = new Machine({ memoryMiB: 16 });
  m.load(elf, { format: 'elf' });
  assert.equal(m.cpus[0].mode, 'long64');
  const r = run(m);
  assert.equal(r.reason, 'debug-exit');
  assert.equal(r.out, '64\n');
  assert.equal(r.status, 1);
});

test('a flat binary runs in real mode at 0x7c00 and in 32-bit protected mode at 1 MiB', () => {
  const real = new Machine({ memoryMiB: 16 });
  real.load(Uint8Array.from(printAndExit('rm\n', 16)), { format: 'flat', flatMode: 'real16', flatAddress: 0x7c00 });
  assert.equal(real.cpus[0].mode, 'real');
  assert.deepEqual(run(real), { out: 'rm\n', status: 1, reason: 'debug-exit' });

  const pm = new Machine({ memoryMiB: 16 });
  pm.load(Uint8Array.from(printAndExit('pm\n', 32)), { format: 'flat' });
  assert.equal(pm.cpus[0].mode, 'protected32');
  assert.deepEqual(run(pm), { out: 'pm\n', status: 1, reason: 'debug-exit' });
});

test('the APs of a multi-vCPU machine wait for SIPI while the BSP runs', () => {
  const m = new Machine({ memoryMiB: 16, vcpus: 4 });
  m.load(Uint8Array.from(printAndExit('bsp\n', 32)), { format: 'flat' });
  assert.deepEqual(m.cpus.map((c) => c.activity), ['active', 'wait-for-sipi', 'wait-for-sipi', 'wait-for-sipi']);
  assert.equal(run(m).out, 'bsp\n');
  assert.deepEqual(m.cpus.slice(1).map((c) => c.instret), [0, 0, 0]);
});
