// Every bundled guest runs on Hyperstep and prints exactly what QEMU prints: against the
// committed expected.out (captured from QEMU and checked against this machine's CPU),
// and against a live QEMU when qemu-system-x86_64 is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runHyperstep, runQemu, qemuBinary, expectedOutput } from './run-guest';

const GUESTS = join(__dirname, '../../../guests');
const guests = readdirSync(GUESTS).filter((g) => existsSync(join(GUESTS, g, `${g}.elf`)) && existsSync(join(GUESTS, g, 'expected.out')));

test('there are bundled guests to compare', () => {
  for (const g of ['hello', 'mode-switch', 'torture', 'exceptions', 'cprog']) assert.ok(guests.includes(g), `guest ${g} is missing`);
});

for (const g of guests) {
  const image = join(GUESTS, g, `${g}.elf`);
  test(`${g}: Hyperstep prints expected.out and exits as QEMU does`, () => {
    const r = runHyperstep(image);
    assert.equal(r.stop?.reason, 'debug-exit', `stopped with ${r.stop?.reason}: ${r.stop?.message}`);
    assert.equal(r.output, expectedOutput(join(GUESTS, g)));
    assert.equal(r.status, 1);
  });
  test(`${g}: Hyperstep and live QEMU print the same`, (t) => {
    if (!qemuBinary()) { t.skip('skipped: qemu-system-x86_64 is not installed (CI installs it)'); return; }
    const q = runQemu(image);
    const r = runHyperstep(image);
    assert.equal(q.status, 1, `QEMU exited with ${q.status}`);
    assert.equal(r.output, q.output);
    assert.equal(r.status, q.status);
  });
}

