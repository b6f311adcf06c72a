// core/cpu/testing.ts runSnippet, and regression cases for interpreter fixes whose expected
// values were taken from this project's Intel host (test/core/cpu/native/ runs the same kinds of
// cases natively; these keep the answers checked where gcc or an Intel CPU is not available).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSnippet, SnippetState } from '../../../core/cpu/testing';
import { AF, CF, OF, PF, SF, ZF } from '../../../core/cpu/regs';

const RAX = 0, RCX = 1, RBX = 3, RSI = 6, RDI = 7;
const ARITH = BigInt(CF | PF | AF | ZF | SF | OF);
const DE = 0, BP = 3, BR = 5;

function state(regs: Record<number, bigint>, flags = 0): SnippetState {
  const gpr = Array.from({ length: 16 }, (_, r) => regs[r] ?? 0n);
  return { gpr, rflags: BigInt(flags | 2) };
}

function run(code: number[], regs: Record<number, bigint>, flags = 0, bits: 32 | 64 = 64) {
  return runSnippet(Uint8Array.from(code), bits, state(regs, flags));
}

const arith = (r: { state: SnippetState }): bigint => r.state.rflags & ARITH;
const ALL = CF | PF | AF | ZF | SF | OF;

describe('runSnippet', () => {
  test('runs to the end of the code and returns registers and flags', () => {
    // add rax, rbx ; inc rcx
    const r = run([0x48, 0x01, 0xd8, 0x48, 0xff, 0xc1], { [RAX]: 0xffffffffffffffffn, [RBX]: 1n, [RCX]: 41n });
    assert.equal(r.fault, null);
    assert.equal(r.state.gpr[RAX], 0n);
    assert.equal(r.state.gpr[RCX], 42n);
    assert.equal(arith(r), BigInt(CF), 'INC keeps the CF of the ADD, the rest is from 41 + 1');
  });

  test('a fault stops the snippet with the state before the faulting instruction', () => {
    // inc rcx ; div ebx (EBX = 0) ; inc rcx
    const r = run([0x48, 0xff, 0xc1, 0xf7, 0xf3, 0x48, 0xff, 0xc1], { [RAX]: 7n, [RCX]: 1n });
    assert.equal(r.fault, DE);
    assert.equal(r.state.gpr[RCX], 2n);
    assert.equal(r.state.gpr[RAX], 7n);
  });

  test('INT3 is reported as vector 3 without being delivered', () => {
    const r = run([0xcc, 0x48, 0xff, 0xc1], { [RCX]: 1n });
    assert.equal(r.fault, BP);
    assert.equal(r.state.gpr[RCX], 1n);
  });

  test('32-bit mode decodes 40+r as INC', () => {
    const r = run([0x40, 0x40], { [RAX]: 0xffffffffn }, 0, 32);
    assert.equal(r.state.gpr[RAX] & 0xffffffffn, 1n);
  });

  test('the input is not modified and calls do not leak state into each other', () => {
    const s = state({ [RAX]: 5n }, CF);
    const r1 = runSnippet(Uint8Array.of(0x48, 0xff, 0xc0), 64, s); // inc rax
    assert.equal(s.gpr[RAX], 5n);
    assert.equal(r1.state.gpr[RAX], 6n);
    const r2 = runSnippet(Uint8Array.of(0x90), 64, s); // nop
    assert.equal(r2.state.gpr[RAX], 5n);
    assert.equal(arith(r2), BigInt(CF));
  });

  test('a snippet that never leaves its code is reported, not run forever', () => {
    assert.throws(() => run([0xeb, 0xfe], {}), /did not finish/); // jmp $
  });
});

describe('flags this host defines where the SDM does not', () => {
  test('BSF/BSR clear CF AF SF OF and set PF from the index found', () => {
    const r = run([0x0f, 0xbc, 0xc3], { [RAX]: 0x1234n, [RBX]: 0x60n }, ALL); // bsf eax, ebx
    assert.equal(r.state.gpr[RAX], 5n);
    assert.equal(arith(r), BigInt(PF));
    const z = run([0x0f, 0xbc, 0xc3], { [RAX]: 0xffffffff12345678n, [RBX]: 0n }, ALL);
    assert.equal(z.state.gpr[RAX], 0xffffffff12345678n, 'zero source leaves the destination, upper half too');
    assert.equal(arith(z), BigInt(PF | ZF));
  });

  test('SHL by more than 1: OF from the top two bits of the original operand', () => {
    const r = run([0xd3, 0xe0], { [RAX]: 0x60000000n, [RCX]: 2n }); // shl eax, cl
    assert.equal(r.state.gpr[RAX], 0x80000000n);
    assert.equal(arith(r), BigInt(CF | PF | SF | OF));
  });

  test('ROL: OF as for a 1-bit rotate with CL, unchanged with an immediate count other than 1', () => {
    const byCl = run([0xd3, 0xc0], { [RAX]: 0x40000000n, [RCX]: 5n }); // rol eax, cl
    assert.equal(byCl.state.gpr[RAX], 8n);
    assert.equal(arith(byCl), BigInt(OF));
    const byImm = run([0xc1, 0xc0, 0x05], { [RAX]: 0x40000000n }); // rol eax, 5
    assert.equal(byImm.state.gpr[RAX], 8n);
    assert.equal(arith(byImm), 0n);
    const keep = run([0xc1, 0xc0, 0x05], { [RAX]: 0x40000000n }, OF);
    assert.equal(arith(keep), BigInt(OF));
  });

  test('AAS subtracts 6 from AX (the borrow reaches AH) then 1 from AH', () => {
    const r = run([0x3f], { [RAX]: 0x0702n }, CF | PF | AF, 32);
    assert.equal(r.state.gpr[RAX] & 0xffffn, 0x050cn);
    assert.equal(arith(r), BigInt(CF | PF | AF));
  });

  test('AAD sets CF/AF/OF as the byte addition AL + AH * imm8', () => {
    const r = run([0xd5, 0x0a], { [RAX]: 0x4a85n }, AF | SF, 32);
    assert.equal(r.state.gpr[RAX] & 0xffffn, 0x0069n);
    assert.equal(arith(r), BigInt(CF | PF | OF));
  });
});

describe('CMPXCHG with a 32-bit register destination in 64-bit mode', () => {
  test('failure loads EAX (zero-extended) and does not write the destination', () => {
    const r = run([0x0f, 0xb1, 0xcb], { [RAX]: 0x1111n, [RBX]: 0xffffffff00002222n, [RCX]: 5n }); // cmpxchg ebx, ecx
    assert.equal(r.state.gpr[RBX], 0xffffffff00002222n);
    assert.equal(r.state.gpr[RAX], 0x2222n);
    assert.equal(arith(r) & BigInt(ZF), 0n);
  });

  test('success writes the destination (zero-extended) and leaves RAX whole', () => {
    const r = run([0x0f, 0xb1, 0xcb], { [RAX]: 0xaaaaaaaa00002222n, [RBX]: 0xffffffff00002222n, [RCX]: 5n });
    assert.equal(r.state.gpr[RBX], 5n);
    assert.equal(r.state.gpr[RAX], 0xaaaaaaaa00002222n);
    assert.equal(arith(r), BigInt(PF | ZF));
  });
});

describe('REPNE SCASD after a batched 8-byte string read', () => {
  test('stops on the matching dword (no stale high half in the comparison)', () => {
    const code = [
      0x48, 0xc7, 0xc7, 0x00, 0x00, 0x20, 0x00, //       mov rdi, 0x200000
      0x48, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde, // movabs rax, 0xdeadbeef00000001
      0x48, 0x89, 0x07, //                                mov [rdi], rax
      0x48, 0x89, 0x47, 0x08, //                          mov [rdi+8], rax
      0x48, 0x89, 0xfe, //                                mov rsi, rdi
      0xb9, 0x02, 0x00, 0x00, 0x00, //                    mov ecx, 2
      0xf3, 0x48, 0xad, //                                rep lodsq
      0xb8, 0xef, 0xbe, 0xad, 0xde, //                    mov eax, 0xdeadbeef
      0xb9, 0x04, 0x00, 0x00, 0x00, //                    mov ecx, 4
      0xf2, 0xaf, //                                      repne scasd
    ];
    const r = run(code, {});
    assert.equal(r.fault, null);
    assert.equal(r.state.gpr[RCX], 2n, 'two dwords scanned');
    assert.equal(r.state.gpr[RDI], 0x200008n);
    assert.equal(r.state.gpr[RSI], 0x200010n);
    assert.equal(arith(r) & BigInt(ZF), BigInt(ZF));
  });
});

describe('BOUND (32-bit mode)', () => {
  // mov ebx, 0x200000 ; mov dword [ebx], -10 ; mov dword [ebx+4], 20 ; bound eax, [ebx]
  const bound32 = [0xbb, 0x00, 0x00, 0x20, 0x00, 0xc7, 0x03, 0xf6, 0xff, 0xff, 0xff, 0xc7, 0x43, 0x04, 0x14, 0x00, 0x00, 0x00, 0x62, 0x03];
  // mov ebx, 0x200000 ; mov dword [ebx], 0x0014fff6 (-10, 20) ; bound ax, [ebx]
  const bound16 = [0xbb, 0x00, 0x00, 0x20, 0x00, 0xc7, 0x03, 0xf6, 0xff, 0x14, 0x00, 0x66, 0x62, 0x03];

  for (const [name, code, mask] of [['r32', bound32, 0xffffffffn], ['r16', bound16, 0xffffn]] as const) {
    test(`${name}: signed index within [lower, upper] passes, outside raises #BR`, () => {
      for (const [index, expect] of [[0n, null], [-10n, null], [20n, null], [-11n, BR], [21n, BR]] as const) {
        const r = run(code, { [RAX]: BigInt.asUintN(64, index) & mask }, 0, 32);
        assert.equal(r.fault, expect, `index ${index}`);
      }
    });
  }
});
