// Hand-computed cases that check the native harness itself: that it loads and stores every
// register and flag, keeps RSP the case's, turns #DE into a fault report, and survives STD.
// If these fail, the differential results mean nothing.
import { AF, Case, CF, DF, OF, PF, SF, ZF } from './cases';
import { encode, Encoding } from './encoder';
import { INITIAL_RSP } from './gen-common';
import { NativeHarness, runNative } from './native';
import { MASK64 } from './prng';

interface Check {
  text: string;
  enc: Encoding;
  gpr: Record<number, bigint>;
  rflags?: number;
  expect: { gpr?: Record<number, bigint>; set?: number; clear?: number; fault?: number | null };
  intelOnly?: boolean;
  /** Run in 32-bit compatibility mode (only the low halves of EAX..EDI are checked). */
  bits?: 32;
}

const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4;
const r8 = (n: number) => ({ size: 8 as const, n });
const r32 = (n: number) => ({ size: 32 as const, n });
const r64 = (n: number) => ({ size: 64 as const, n });

const CHECKS: Check[] = [
  { text: 'add al, bl', enc: { opcode: [0x00], reg: r8(RBX), rm: r8(RAX) }, gpr: { [RAX]: 0x11223344556677ffn, [RBX]: 1n },
    expect: { gpr: { [RAX]: 0x1122334455667700n }, set: CF | ZF | AF | PF, clear: SF | OF } },
  { text: 'add ah, bh', enc: { opcode: [0x00], reg: r8(19), rm: r8(16) }, gpr: { [RAX]: 0x7f00n, [RBX]: 0x100n },
    expect: { gpr: { [RAX]: 0x8000n }, set: OF | SF | AF, clear: CF | ZF | PF } },
  { text: 'xor eax, eax', enc: { opcode: [0x31], reg: r32(RAX), rm: r32(RAX) }, gpr: { [RAX]: MASK64 }, rflags: CF | OF | SF,
    expect: { gpr: { [RAX]: 0n }, set: ZF | PF, clear: CF | OF | SF } },
  { text: 'shl rdx, cl (count 65 masks to 1)', enc: { rexW: true, opcode: [0xd3], reg: 4, rm: r64(RDX) },
    gpr: { [RCX]: 65n, [RDX]: 0x8000000000000001n }, expect: { gpr: { [RDX]: 2n }, set: CF | OF, clear: ZF | SF } },
  { text: 'div ecx (by zero)', enc: { opcode: [0xf7], reg: 6, rm: r32(RCX) }, gpr: { [RAX]: 0x1234n, [RCX]: 0n, [RDX]: 0n },
    expect: { gpr: { [RAX]: 0x1234n, [RDX]: 0n }, fault: 0 } },
  { text: 'idiv rcx (MIN / -1)', enc: { rexW: true, opcode: [0xf7], reg: 7, rm: r64(RCX) },
    gpr: { [RAX]: 0x8000000000000000n, [RDX]: MASK64, [RCX]: MASK64 }, expect: { gpr: { [RAX]: 0x8000000000000000n }, fault: 0 } },
  { text: 'div rcx', enc: { rexW: true, opcode: [0xf7], reg: 6, rm: r64(RCX) }, gpr: { [RAX]: 100n, [RDX]: 0n, [RCX]: 7n },
    expect: { gpr: { [RAX]: 14n, [RDX]: 2n }, fault: null } },
  { text: 'bsf rax, rbx (zero source leaves rax on Intel)', enc: { rexW: true, opcode: [0x0f, 0xbc], reg: r64(RAX), rm: r64(RBX) },
    gpr: { [RAX]: 0xffff00001234n, [RBX]: 0n }, expect: { gpr: { [RAX]: 0xffff00001234n }, set: ZF }, intelOnly: true },
  { text: 'mov eax, ecx (zero-extends)', enc: { opcode: [0x89], reg: r32(RCX), rm: r32(RAX) },
    gpr: { [RAX]: MASK64, [RCX]: 0xdeadbeef12345678n }, expect: { gpr: { [RAX]: 0x12345678n } } },
  { text: 'cmove eax, ecx (not taken, still zero-extends)', enc: { opcode: [0x0f, 0x44], reg: r32(RAX), rm: r32(RCX) },
    gpr: { [RAX]: MASK64, [RCX]: 5n }, rflags: 0, expect: { gpr: { [RAX]: 0xffffffffn } } },
  { text: 'sahf', enc: { opcode: [0x9e] }, gpr: { [RAX]: 0xd500n }, rflags: OF, expect: { set: SF | ZF | AF | PF | CF | OF } },
  { text: 'std', enc: { opcode: [0xfd] }, gpr: {}, expect: { set: DF } },
  { text: 'dec eax (48 in 32-bit mode)', bits: 32, enc: { opcode: [0x48] }, gpr: { [RAX]: 0x1234567800000000n },
    expect: { gpr: { [RAX]: 0xffffffffn }, set: SF | PF | AF, clear: ZF | OF } },
  { text: 'div ecx (by zero, 32-bit mode)', bits: 32, enc: { opcode: [0xf7], reg: 6, rm: r32(RCX) }, gpr: { [RAX]: 0x1234n, [RCX]: 0n },
    expect: { gpr: { [RAX]: 0x1234n }, fault: 0 } },
  { text: 'aam 10 (32-bit mode)', bits: 32, enc: { opcode: [0xd4], imm: { value: 10n, bytes: 1 } }, gpr: { [RAX]: 0x63n },
    expect: { gpr: { [RAX]: 0x0909n }, clear: ZF | SF } },
  { text: 'imul rax, rbx, 3', enc: { rexW: true, opcode: [0x6b], reg: r64(RAX), rm: r64(RBX), imm: { value: 3n, bytes: 1 } },
    gpr: { [RBX]: 5n }, rflags: CF | OF, expect: { gpr: { [RAX]: 15n, [RSP]: INITIAL_RSP }, clear: CF | OF } },
];

/** Runs the checks natively; returns one message per failed expectation (empty when all hold). */
export function nativeSelfCheck(h: NativeHarness): string[] {
  const checks = CHECKS.filter((c) => !c.intelOnly || h.features.vendor === 'GenuineIntel');
  const cases: Case[] = checks.map((ch, i) => {
    // Distinct, recognisable values in every register the check does not set.
    const gpr = Array.from({ length: 16 }, (_, r) => (r === RSP ? INITIAL_RSP : 0x0101010101010101n * BigInt(r + 1) + BigInt(i)));
    for (const [r, v] of Object.entries(ch.gpr)) gpr[Number(r)] = v;
    return { family: 'selfcheck', form: ch.text, text: ch.text, code: encode(ch.enc), bits: ch.bits ?? 64, input: { gpr, rflags: BigInt((ch.rflags ?? 0) | 2) },
      undefinedFlags: 0, regs: [] };
  });
  const results = runNative(h, cases);
  const failures: string[] = [];
  checks.forEach((ch, i) => {
    const out = results[i];
    const flags = Number(out.state.rflags);
    const fail = (what: string) => failures.push(`${ch.text}: ${what}`);
    const wantFault = ch.expect.fault === undefined ? null : ch.expect.fault;
    if (out.fault !== wantFault) fail(`fault ${out.fault}, expected ${wantFault}`);
    const width = ch.bits === 32 ? 0xffffffffn : MASK64;
    for (const [r, v] of Object.entries({ [RSP]: INITIAL_RSP, ...ch.expect.gpr })) {
      const got = out.state.gpr[Number(r)] & width;
      if (got !== v) fail(`gpr ${r} = 0x${got.toString(16)}, expected 0x${v.toString(16)}`);
    }
    // Registers the instruction does not write must come back as they went in.
    for (let r = 0; r < (ch.bits === 32 ? 8 : 16); r++) {
      const written = ch.expect.gpr && r in ch.expect.gpr;
      if (!written && ![RAX, RDX].includes(r) && (out.state.gpr[r] & width) !== (cases[i].input.gpr[r] & width)) fail(`gpr ${r} changed`);
    }
    if (ch.expect.set !== undefined && (flags & ch.expect.set) !== ch.expect.set) fail(`flags 0x${flags.toString(16)} lack 0x${ch.expect.set.toString(16)}`);
    if (ch.expect.clear !== undefined && (flags & ch.expect.clear) !== 0) fail(`flags 0x${flags.toString(16)} have 0x${(flags & ch.expect.clear).toString(16)}`);
  });
  return failures;
}
