// Call frame information and stack unwinding. The CFI rows are compared with readelf's
// interpretation of .debug_frame; the unwinder is checked on real runs: cprog and cprog64
// execute on the core's Machine one instruction at a time while a shadow call stack
// records every return address a call pushes (and drops it at the matching ret), and at
// sampled instructions the unwinder must recover exactly that stack from the registers
// and guest memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../../core/machine';
import {
  DebugInfo, I386_DWARF_REGISTERS as I386, X86_64_DWARF_REGISTERS as X64, UnwindRegisters, ReadMemory, unwindRegistersFromGprs,
} from '../../../core/loader/dwarf';

const REPO = join(__dirname, '../../../..');
const guestPath = (g: string) => join(REPO, 'guests', g, `${g}.elf`);
const hex = (n: number) => '0x' + n.toString(16);

function run(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 28, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return null;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * readelf --debug-dump=frames-interp, as {FDE range -> rows}: each row maps "cfa" and each
 * register column to readelf's notation (esp+4, c-8, u).
 */
function readelfFrames(file: string): Map<string, Map<number, Record<string, string>>> | null {
  const out = run('readelf', ['--debug-dump=frames-interp', file]);
  if (out === null) return null;
  const fdes = new Map<string, Map<number, Record<string, string>>>();
  let rows: Map<number, Record<string, string>> | null = null;
  let columns: string[] = [];
  for (const line of out.split('\n')) {
    const fde = / FDE cie=\S+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/.exec(line);
    if (fde) {
      rows = new Map();
      fdes.set(`${parseInt(fde[1], 16)}..${parseInt(fde[2], 16)}`, rows);
      continue;
    }
    if (/ CIE /.test(line)) rows = null;
    const f = line.trim().split(/\s+/);
    if (f[0] === 'LOC') columns = f.slice(1).map((c) => c.toLowerCase());
    else if (rows && /^[0-9a-f]{8,16}$/.test(f[0])) rows.set(parseInt(f[0], 16), Object.fromEntries(columns.map((c, i) => [c, f[i + 1]])));
  }
  return fdes;
}

const NAMES32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'ra'];
const NAMES64 = ['rax', 'rdx', 'rcx', 'rbx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'ra'];

/** Our CFI rows for the same FDEs, in readelf's notation, for the columns readelf printed. */
function compareWithReadelf(d: DebugInfo, theirs: Map<string, Map<number, Record<string, string>>>, names: string[]): number {
  let compared = 0;
  for (const [range, rows] of theirs) {
    const [low, high] = range.split('..').map(Number);
    for (const [loc, cols] of rows) {
      const info = d.frameRowAt(loc);
      assert.ok(info, `an FDE covers ${hex(loc)}`);
      assert.deepEqual([info.low, info.high], [low, high], `FDE range at ${hex(loc)}`);
      const mine: Record<string, string> = {};
      for (const col of Object.keys(cols)) {
        if (col === 'cfa') {
          const c = info.row.cfa;
          mine.cfa = c.kind === 'register' ? `${names[c.register]}+${c.offset}` : 'exp';
          continue;
        }
        const reg = col === 'ra' ? info.raColumn : names.indexOf(col);
        const rule = info.row.registers.get(reg);
        mine[col] = !rule || rule.kind === 'undefined' ? 'u' : rule.kind === 'offset' ? `c${rule.offset >= 0 ? '+' : ''}${rule.offset}` : rule.kind;
      }
      assert.deepEqual(mine, cols, `row at ${hex(loc)}`);
      compared++;
    }
  }
  return compared;
}

test('CFI rows of an i386 guest equal readelf --debug-dump=frames-interp', (t) => {
  const theirs = readelfFrames(guestPath('cprog'));
  if (theirs === null) return t.skip('readelf is not installed');
  assert.ok(compareWithReadelf(DebugInfo.fromElf(readFileSync(guestPath('cprog'))) as DebugInfo, theirs, NAMES32) > 100);
});

test('CFI rows of x86-64 code in an ELF32 image (8-byte FDE addresses) equal readelf on an ELF64 copy', (t) => {
  // readelf sizes FDE addresses by the ELF class, so it misreads the mixed images; on a
  // copy converted to ELF64 it reads them right and can referee.
  const dir = mkdtempSync(join(tmpdir(), 'hs-dwarf-'));
  try {
    const copy = join(dir, 'smp-boot64.elf');
    if (run('objcopy', ['-O', 'elf64-x86-64', guestPath('smp-boot'), copy]) === null) return t.skip('objcopy is not installed');
    const theirs = readelfFrames(copy);
    if (theirs === null) return t.skip('readelf is not installed');
    assert.ok(compareWithReadelf(DebugInfo.fromElf(readFileSync(guestPath('smp-boot'))) as DebugInfo, theirs, NAMES64) > 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the first FDE of smp-boot, read from the ELF32 file itself', () => {
  const d = DebugInfo.fromElf(readFileSync(guestPath('smp-boot'))) as DebugInfo;
  const at = (pc: number) => {
    const r = d.frameRowAt(pc);
    assert.ok(r);
    const regs = [...r.row.registers].map(([reg, rule]) => `${reg}:${rule.kind === 'offset' ? rule.offset : rule.kind}`).sort();
    return { range: [r.low, r.high], ra: r.raColumn, cfa: r.row.cfa, regs };
  };
  // From the listing: push r13; push r12; push rbp; push rbx; sub rsp, 8 ... and the epilogue.
  assert.deepEqual(at(0x100200), { range: [0x100200, 0x10028d], ra: 16, cfa: { kind: 'register', register: 7, offset: 8 }, regs: ['16:-8'] });
  assert.deepEqual(at(0x100210).cfa, { kind: 'register', register: 7, offset: 48 });
  assert.deepEqual(at(0x100210).regs, ['12:-24', '13:-16', '16:-8', '3:-40', '6:-32']);
  assert.deepEqual(at(0x100287).cfa, { kind: 'register', register: 7, offset: 32 });
  assert.equal(d.frameRowAt(0x100000), null); // the multiboot header has no FDE
});

interface Cpu {
  rip: number;
  mode64: boolean;
  gpr: Int32Array;
  reg64(i: number): number;
}

/** DWARF register set from a vCPU (the CPU keeps GPRs in Intel encoding order). */
function dwarfRegisters(c: Cpu): UnwindRegisters {
  const gprs: number[] = [];
  for (let i = 0; i < (c.mode64 ? 16 : 8); i++) gprs.push(c.mode64 ? c.reg64(i) : c.gpr[i] >>> 0);
  return unwindRegistersFromGprs(c.mode64 ? c.rip : c.rip >>> 0, gprs, c.mode64);
}

interface Sample {
  pc: number;
  shadow: number[];
  frames: number[];
  names: string[];
}

/**
 * Runs `guest` to the end, one instruction at a time, keeping a shadow call stack; every
 * `stride` instructions, where the pc has CFI, unwinds and records both stacks.
 */
function traceGuest(guest: string, stride: number): { samples: Sample[]; d: DebugInfo; exit: string | undefined } {
  const bytes = readFileSync(guestPath(guest));
  const d = DebugInfo.fromElf(bytes) as DebugInfo;
  const m = new Machine({ memoryMiB: 16, jit: false });
  m.load(bytes);
  const c = m.cpus[0] as unknown as Cpu;
  const ph = m.phys;
  // Paging is off (cprog) or identity-mapped (cprog64's long mode): linear = physical.
  const read: ReadMemory = (a, size) => {
    if (!ph.isBacked(a) || !ph.isBacked(a + size - 1)) return null;
    const lo = ph.read32(a) >>> 0;
    return size === 4 ? lo : lo + (ph.read32(a + 4) >>> 0) * 2 ** 32;
  };
  const shadow: number[] = [];
  const samples: Sample[] = [];
  for (let n = 1; !m.stopInfo && n < 5e6; n++) {
    const word = c.mode64 ? 8 : 4;
    const sp0 = c.mode64 ? c.reg64(4) : c.gpr[4] >>> 0;
    // The instruction about to run: skip prefixes, then call rel32 / call r/m (FF /2) / ret.
    let p = c.mode64 ? c.rip : c.rip >>> 0;
    let op = ph.read8(p);
    while ([0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x3e].includes(op) || (c.mode64 && op >= 0x40 && op <= 0x4f)) op = ph.read8(++p);
    const isCall = op === 0xe8 || (op === 0xff && ((ph.read8(p + 1) >> 3) & 7) === 2);
    const isRet = op === 0xc3 || op === 0xc2;
    m.run(1);
    const regs = dwarfRegisters(c);
    if (isCall && regs.sp === sp0 - word) shadow.push(read(regs.sp, word) as number);
    else if (isRet) shadow.pop();
    if (n % stride !== 0 || !d.hasFrameInfo(regs.pc)) continue;
    const frames = d.unwind(regs, read, c.mode64);
    samples.push({
      pc: regs.pc, shadow: shadow.slice().reverse(), frames: frames.map((f) => f.pc),
      names: frames.map((f) => d.functionAt(f.callSite)?.name ?? '?'),
    });
  }
  return { samples, d, exit: m.stopInfo?.reason };
}

/**
 * The unwinder must give the shadow stack, innermost first, through the first return
 * address into code without CFI (an assembly caller: that frame is still found, from the
 * callee's CFI, but nothing reliable lies beyond it).
 */
function checkSamples(samples: Sample[], d: DebugInfo): void {
  for (const s of samples) {
    const cut = s.shadow.findIndex((a) => !d.hasFrameInfo(a - 1));
    const expected = cut < 0 ? s.shadow : s.shadow.slice(0, cut + 1);
    assert.deepEqual(s.frames.slice(0, expected.length).map(hex), expected.map(hex), `unwinding at ${hex(s.pc)}`);
  }
}

test('cprog (i386): at sampled instructions through the whole run, unwinding recovers the real call stack', () => {
  const { samples, d, exit } = traceGuest('cprog', 13);
  assert.equal(exit, 'debug-exit');
  assert.ok(samples.length > 50000, `${samples.length} samples`);
  checkSamples(samples, d);
  // Beyond _start (assembly, no CFI) the frame-pointer walk finds EBP = 0 and stops.
  for (const s of samples) assert.equal(s.frames.length, s.shadow.length, `frame count at ${hex(s.pc)}`);
  // The deepest stack: quicksort recursing on the smaller half, called from test_sort
  // (inlined into guest_main), called from _start.
  const deepest = samples.reduce((a, b) => (b.frames.length > a.frames.length ? b : a));
  assert.equal(d.functionAt(deepest.pc)?.name, 'quicksort');
  assert.deepEqual(deepest.names, ['quicksort', 'quicksort', 'quicksort', 'quicksort', 'guest_main', '_start']);
  const deepD = d;
  const lines = deepest.frames.map((pc) => deepD.lineAt(pc - 1)?.line);
  // The recursive calls are on cprog.c lines 64 and 67; test_sort calls at line 80; _start at multiboot.S:60.
  for (const l of lines.slice(0, 4)) assert.ok(l === 64 || l === 67, `recursive call line ${l}`);
  assert.deepEqual(lines.slice(4), [80, 60]);
  // guest_main's call is really test_sort's, inlined into cprog_main, inlined into
  // guest_main: the debugger can show those frames too.
  assert.deepEqual(d.inlinedAt(deepest.frames[4] - 1).map((c) => `${c.name}@${c.callLine}`), ['test_sort@308', 'cprog_main@330']);
  // fib recursing (the compiler unrolled part of it) also shows up by name.
  assert.ok(samples.some((s) => s.names[0] === 'fib' && s.names[1] === 'fib' && s.names.includes('guest_main')));
});

test('cprog64 (x86-64): unwinding recovers the real call stack down into the 32-bit caller', () => {
  const { samples, d, exit } = traceGuest('cprog64', 13);
  assert.equal(exit, 'debug-exit');
  assert.ok(samples.length > 50000, `${samples.length} samples`);
  checkSamples(samples, d);
  const deepest = samples.reduce((a, b) => (b.frames.length > a.frames.length ? b : a));
  assert.deepEqual(deepest.names.slice(0, 5), ['quicksort', 'quicksort', 'quicksort', 'quicksort', 'main64']);
  // main64 is called from lm_entry64 (assembly, no CFI): that frame is the last found by CFI.
  assert.equal(deepest.names[5], 'lm_entry64');
});

/** Guest memory as a sparse map of little-endian words. */
function memory(words: Record<number, number>, word: 4 | 8): ReadMemory {
  return (a, size) => (size === word && a in words ? words[a] : null);
}

test('without CFI, a sane frame-pointer chain is walked; an insane one is not', () => {
  const d = DebugInfo.fromElf(readFileSync(guestPath('cprog'))) as DebugInfo;
  const pc = 0x100040; // _start: assembly, no FDE
  assert.equal(d.hasFrameInfo(pc), false);
  // i386: [ebp] = caller's ebp, [ebp+4] = return address.
  const mem32 = memory({ 0x8000: 0x8100, 0x8004: 0x101000, 0x8100: 0, 0x8104: 0x102000 }, 4);
  const frames = d.unwind({ pc, sp: 0x7ff0, fp: 0x8000 }, mem32, false);
  // 0x101000 lies in __udivdi3, which has CFI: the next step uses it, and needs stack
  // memory this map does not have, so the walk ends there.
  assert.deepEqual(frames.map((f) => [f.method, hex(f.pc), hex(f.callSite), hex(f.sp), f.registers.fp]), [
    ['frame-pointer', '0x101000', '0x100fff', '0x8008', 0x8100],
  ]);
  // Return addresses outside any FDE keep the frame-pointer walk going until a zero return address.
  const outside = memory({ 0x8000: 0x8100, 0x8004: 0x500000, 0x8100: 0x8200, 0x8104: 0x500100, 0x8200: 0, 0x8204: 0 }, 4);
  assert.deepEqual(d.unwind({ pc, sp: 0x7ff0, fp: 0x8000 }, outside, false).map((f) => hex(f.pc)), ['0x500000', '0x500100']);
  // fp below sp, misaligned, or unreadable: no frames.
  assert.deepEqual(d.unwind({ pc, sp: 0x9000, fp: 0x8000 }, outside, false), []);
  assert.deepEqual(d.unwind({ pc, sp: 0x7ff0, fp: 0x8002 }, outside, false), []);
  assert.deepEqual(d.unwind({ pc, sp: 0x7ff0, fp: 0x9000 }, outside, false), []);
  // A chain that loops (fp pointing to itself) stops: the stack pointer makes no progress.
  const loop = memory({ 0x8000: 0x8000, 0x8004: 0x500000 }, 4);
  assert.equal(d.unwind({ pc, sp: 0x7ff0, fp: 0x8000 }, loop, false).length, 1);
  // x86-64 words are 8 bytes; maxFrames caps a long chain.
  const chain: Record<number, number> = {};
  for (let i = 0; i < 100; i++) {
    chain[0x10000 + i * 0x100] = 0x10000 + (i + 1) * 0x100;
    chain[0x10000 + i * 0x100 + 8] = 0x600000 + i;
  }
  const f64 = d.unwind({ pc: 0x500000, sp: 0xff00, fp: 0x10000 }, memory(chain, 8), true, 10);
  assert.equal(f64.length, 10);
  assert.deepEqual(f64.slice(0, 2).map((f) => [hex(f.pc), hex(f.sp), f.registers[X64.rbp]]), [['0x600000', '0x10010', 0x10100], ['0x600001', '0x10110', 0x10200]]);
});

test('general registers in encoding order map to DWARF numbers', () => {
  // rax rcx rdx rbx rsp rbp rsi rdi r8..r15 hold 100..115.
  const r64 = unwindRegistersFromGprs(0x1000, Array.from({ length: 16 }, (_, i) => 100 + i), true);
  assert.deepEqual([r64[X64.rax], r64[X64.rcx], r64[X64.rdx], r64[X64.rbx], r64[X64.rsp], r64[X64.rbp], r64[X64.rsi], r64[X64.rdi], r64[X64.r8], r64[X64.r15]],
    [100, 101, 102, 103, 104, 105, 106, 107, 108, 115]);
  assert.deepEqual([r64.pc, r64.sp, r64.fp], [0x1000, 104, 105]);
  const r32 = unwindRegistersFromGprs(0x2000, Array.from({ length: 8 }, (_, i) => 200 + i), false);
  assert.deepEqual([r32[I386.eax], r32[I386.ecx], r32[I386.edx], r32[I386.ebx], r32[I386.esp], r32[I386.ebp], r32[I386.esi], r32[I386.edi]],
    [200, 201, 202, 203, 204, 205, 206, 207]);
  assert.deepEqual([r32.pc, r32.sp, r32.fp, r32[8]], [0x2000, 204, 205, undefined]);
});

test('CFI unwinding stops where the return address cannot be read', () => {
  const d = DebugInfo.fromElf(readFileSync(guestPath('cprog'))) as DebugInfo;
  // At quicksort's first instruction: CFA = esp+4, return address at CFA-4 = [esp].
  const regs = { pc: 0x101520, sp: 0x7000 };
  assert.deepEqual(d.unwind(regs, memory({}, 4), false), []);
  const one = d.unwind(regs, memory({ 0x7000: 0x10200d + 5 }, 4), false);
  assert.equal(one[0].method, 'cfi');
  assert.equal(one[0].pc, 0x102012);
  assert.equal(one[0].sp, 0x7004);
  assert.equal(one[0].cfa, 0x7004);
  assert.equal(d.functionAt(one[0].callSite)?.name, 'guest_main');
  // A zero return address ends the stack.
  assert.deepEqual(d.unwind(regs, memory({ 0x7000: 0 }, 4), false), []);
});
