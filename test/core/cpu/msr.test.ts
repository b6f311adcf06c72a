// WRMSR/RDMSR of the MSRs the CPU keeps itself (core/cpu/msr.ts), on a bare CPU.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bareCpu, CODE, DATA } from './bare-cpu';

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

describe('IA32_FS_BASE', () => {
  test('outside 64-bit mode the base written applies to FS accesses, also when FS was flat', () => {
    const b = bareCpu(32);
    b.poke(DATA + 0x1000, le32(0x12345678));
    const code = [
      0xb9, ...le32(0xc0000100), // mov ecx, IA32_FS_BASE
      0xb8, ...le32(0x1000), // mov eax, 0x1000
      0x31, 0xd2, // xor edx, edx
      0x0f, 0x30, // wrmsr
      0x64, 0xa1, ...le32(DATA), // mov eax, fs:[DATA]
      0xf4, // hlt
    ];
    b.load(code);
    b.runTo(CODE + code.length - 1);
    assert.equal(b.cpu.gpr[0] >>> 0, 0x12345678);
  });
});
