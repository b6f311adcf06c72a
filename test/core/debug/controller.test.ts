// The core's debugging primitives: slices and breaks never change the schedule; breakpoints,
// steps and event watches stop exactly where they say; debug reads have no side effects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../../core/machine';
import { DebugController, linearRip } from '../../../core/debug/controller';
import { debugTranslate, readVirtual } from '../../../core/debug/walk';
import { readElfSymbols } from '../../../core/loader';

const GUESTS = join(__dirname, '../../../../guests');
const SMP = join(GUESTS, 'smp-boot/smp-boot.elf');

function boot(vcpus = 4, seed = 3): { m: Machine; out: () => string; hash: () => string; count: () => number } {
  const m = new Machine({ vcpus, seed, memoryMiB: 64 });
  m.load(readFileSync(SMP), { imagePath: SMP });
  let out = '';
  m.onSerial = (b) => { out += String.fromCharCode(b); };
  const h = createHash('sha256');
  let n = 0;
  m.onEvent((e) => { h.update(JSON.stringify(e)); n++; });
  return { m, out: () => out, hash: () => h.copy().digest('hex'), count: () => n };
}

function symbol(name: string): number {
  const s = readElfSymbols(readFileSync(SMP)).find((x) => x.name === name);
  assert.ok(s, `no symbol ${name}`);
  return s.address;
}

test('running in slices of any size gives the same trace as one run', () => {
  const a = boot();
  const sa = a.m.run();
  const b = boot();
  let sb = null;
  for (let k = 0; sb === null; k++) sb = b.m.run(1 + ((k * 7919) % 5000));
  assert.equal(sa?.reason, 'debug-exit');
  assert.deepEqual(sb, sa);
  assert.equal(b.out(), a.out());
  assert.ok(a.count() > 100);
  assert.equal(b.hash(), a.hash());
  assert.equal(b.m.instructions(), a.m.instructions());
});

test('a breakpoint stops every vCPU before the instruction; continuing gives the uninterrupted trace', () => {
  const ref = boot();
  ref.m.run();
  const t = boot();
  const d = new DebugController(t.m);
  d.attach();
  const ap = symbol('smp_ap_entry');
  d.setInstructionBreakpoints([{ address: ap }]);
  const hits: number[] = [];
  for (;;) {
    const o = d.run(1_000_000);
    if (o.kind === 'stop') break;
    if (o.kind !== 'break') continue;
    assert.equal(o.reason, 'breakpoint');
    const c = t.m.cpus[o.vcpu];
    assert.equal(linearRip(c), ap, 'stopped before the breakpoint instruction');
    hits.push(o.vcpu);
  }
  // Each AP enters smp_ap_entry once; the BSP never does.
  assert.deepEqual(hits.slice().sort(), [1, 2, 3]);
  assert.equal(t.out(), ref.out());
  assert.equal(t.hash(), ref.hash());
});

test('a breakpoint condition is asked at each hit and can refuse it', () => {
  const t = boot();
  const d = new DebugController(t.m);
  const asked: number[] = [];
  d.setInstructionBreakpoints([{ address: symbol('smp_ap_entry'), check: (v) => { asked.push(v); return v === 2; } }]);
  let o = d.run(Infinity);
  assert.equal(o.kind, 'break');
  assert.equal(o.kind === 'break' && o.vcpu, 2);
  o = d.run(Infinity);
  assert.equal(o.kind, 'stop');
  assert.deepEqual(asked.slice().sort(), [1, 2, 3]);
});

test('an instruction step retires exactly one instruction on the stepped vCPU', () => {
  const t = boot(1);
  const d = new DebugController(t.m);
  d.setInstructionBreakpoints([{ address: symbol('main64') }]);
  assert.equal(d.run(Infinity).kind, 'break');
  d.setInstructionBreakpoints([]);
  const c = t.m.cpus[0];
  for (let k = 0; k < 5; k++) {
    const start = c.instret, lin = linearRip(c);
    const o = d.run(Infinity, { vcpu: 0, singleThread: false, done: (cc, l) => cc.instret > start || l !== lin });
    assert.equal(o.kind, 'break');
    assert.equal(c.instret, start + 1);
  }
});

test('a single-thread step runs only the stepped vCPU', () => {
  const t = boot(4);
  const d = new DebugController(t.m);
  d.setInstructionBreakpoints([{ address: symbol('smp_ap_long_mode_ok') }]);
  let o = d.run(Infinity);
  assert.equal(o.kind, 'break');
  d.setInstructionBreakpoints([]);
  const k = o.kind === 'break' ? o.vcpu : 0;
  const before = t.m.cpus.map((c) => c.instret);
  o = d.run(Infinity, { vcpu: k, singleThread: true, done: (c) => c.instret >= before[k] + 10 });
  assert.equal(o.kind, 'break');
  const after = t.m.cpus.map((c) => c.instret);
  for (let v = 0; v < 4; v++) assert.equal(after[v] - before[v], v === k ? 10 : 0, `vCPU ${v}`);
});

test('an event watch breaks after the instruction that caused the event', () => {
  const t = boot(2);
  const d = new DebugController(t.m);
  d.attach();
  d.setWatches('ipi.send', [(e) => (e.type === 'ipi.send' && (e.data as { mode: string }).mode === 'init' ? { vcpu: e.vcpu, detail: e } : null)]);
  const o = d.run(Infinity);
  assert.equal(o.kind, 'break');
  if (o.kind !== 'break') return;
  assert.equal(o.reason, 'event');
  assert.equal(o.vcpu, 0);
  // The ICR write has happened: vCPU 1 is reset and waits for its SIPI.
  assert.equal(t.m.cpus[1].activity, 'wait-for-sipi');
  assert.equal(t.m.lapics[0].icrLow & 0x700, 0x500);
});

test('debug reads through the page tables match the MMU and leave A bits and the TLB alone', () => {
  const t = boot(1);
  const d = new DebugController(t.m);
  d.setInstructionBreakpoints([{ address: symbol('main64') }]);
  assert.equal(d.run(Infinity).kind, 'break');
  const c = t.m.cpus[0];
  assert.equal(c.mode, 'long64');
  const tlb = Array.from(c.tlbTag);
  const ram = t.m.phys.u8.slice(0, 1 << 20);
  const lin = symbol('main64');
  const tr = debugTranslate(c, lin);
  const far = debugTranslate(c, lin + 0x200000);
  const bytes = readVirtual(c, lin, 16);
  assert.ok(tr && far);
  assert.deepEqual(Array.from(c.tlbTag), tlb, 'the TLB is untouched');
  assert.deepEqual(t.m.phys.u8.slice(0, 1 << 20), ram, 'no accessed/dirty bit was set');
  assert.deepEqual(bytes, t.m.phys.readBytes(tr.pa, 16));
  assert.equal(debugTranslate(c, 0x7fff_0000_0000), null);
  // The MMU agrees (and is allowed its side effects).
  assert.equal(tr.pa, c.translateNoFault(lin));
  assert.equal(far.pa, c.translateNoFault(lin + 0x200000));
});

test('slices that end exactly where a vCPU halts keep the schedule (every budget from 1 to 40 on IPI ping-pong)', () => {
  const image = join(GUESTS, 'ipi-pingpong/ipi-pingpong.elf');
  const run = (budget: number): string => {
    const m = new Machine({ vcpus: 2, memoryMiB: 64 });
    m.load(readFileSync(image), { imagePath: image, cmdline: 'rounds=50' });
    let s = null;
    while (s === null) s = m.run(budget);
    return `${s.reason} ${m.cpus.map((c) => c.instret).join('/')} ${m.time.nowNs()}`;
  };
  const ref = run(Infinity);
  for (let b = 1; b <= 40; b++) assert.equal(run(b), ref, `budget ${b}`);
});
