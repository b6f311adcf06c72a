// Every bundled guest gives the same run with the JIT on and off: instruction count, event
// trace (timestamps are virtual time, so they check instruction counts at every event),
// serial output, stop and final registers. Also with a small quantum (blocks cut by budgets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, MachineConfig } from '../../../../core/machine';
import { parseRunArgs } from '../../../../cli/main';

const GUESTS = join(__dirname, '../../../../../guests');
const guests = readdirSync(GUESTS).filter((g) => existsSync(join(GUESTS, g, `${g}.elf`)));

function run(image: string, config: MachineConfig, cmdline?: string, hot?: number) {
  const m = new Machine({ memoryMiB: 64, maxInstructions: 40_000_000, ...config });
  if (hot !== undefined) m.decodeCache.blocks.hot = hot;
  m.load(readFileSync(image), { imagePath: image, cmdline });
  const h = createHash('sha256');
  let events = 0;
  m.onEvent((e) => { h.update(JSON.stringify(e)); events++; });
  let output = '';
  m.onSerial = (b) => { output += String.fromCharCode(b); };
  const stop = m.run();
  const regs = m.cpus.map((c) => [Array.from(c.gpr), c.rip, c.getFlags(), c.instret, c.activity]);
  return { hash: h.digest('hex'), events, output, stop: stop?.reason, instructions: m.instructions(), regs, compiled: m.decodeCache.blocks.compiled };
}

for (const g of guests) {
  test(`${g}: the JIT and the interpreter give the same run`, () => {
    const image = join(GUESTS, g, `${g}.elf`);
    const cmdline = g === 'bench' ? 'rounds=1' : undefined;
    // A low threshold compiles nearly all code that runs twice (torture, which runs 25 M
    // instructions of mostly cold code, keeps the default so the suite stays fast).
    const a = run(image, { jit: false }, cmdline), b = run(image, { jit: true }, cmdline, g === 'torture' ? undefined : 2);
    assert.equal(a.compiled, 0);
    if (a.instructions > 20000) assert.ok(b.compiled > 0, 'nothing was compiled');
    assert.equal(b.output, a.output);
    assert.equal(b.stop, a.stop);
    assert.equal(b.instructions, a.instructions);
    assert.equal(b.events, a.events);
    assert.equal(b.hash, a.hash);
    assert.deepEqual(b.regs, a.regs);
  });
}

// Multi-vCPU guests (those with expected-smpN.out): the scheduler interleaves vCPUs by retired
// instructions, so exact counts per slice keep the same interleaving and the same trace.
for (const g of guests) {
  const counts = readdirSync(join(GUESTS, g)).map((f) => /^expected-smp(\d+)\.out$/.exec(f)).filter((x) => x !== null)
    .map((x) => Number(x![1])).filter((n) => n > 1 && n <= 8);
  for (const vcpus of counts) {
    test(`${g} with ${vcpus} vCPUs: the JIT and the interpreter give the same run`, () => {
      const image = join(GUESTS, g, `${g}.elf`);
      const a = run(image, { jit: false, vcpus }), b = run(image, { jit: true, vcpus }, undefined, 2);
      assert.equal(b.output, a.output);
      assert.equal(b.instructions, a.instructions);
      assert.equal(b.hash, a.hash);
      assert.deepEqual(b.regs, a.regs);
    });
  }
}

test('a small quantum cuts blocks at the same instructions (cprog, quantum 333)', () => {
  const image = join(GUESTS, 'cprog/cprog.elf');
  const a = run(image, { jit: false, quantum: 333 }), b = run(image, { jit: true, quantum: 333 }, undefined, 2);
  assert.equal(b.hash, a.hash);
  assert.deepEqual(b.regs, a.regs);
});

test('jit: false and --no-jit turn the JIT off', () => {
  assert.equal(new Machine({ memoryMiB: 8, jit: false }).decodeCache.blocks.enabled, false);
  assert.equal(new Machine({ memoryMiB: 8 }).decodeCache.blocks.enabled, true);
  assert.equal(parseRunArgs(['guest.elf', '--no-jit']).jit, false);
  assert.equal(parseRunArgs(['guest.elf']).jit, undefined);
});
