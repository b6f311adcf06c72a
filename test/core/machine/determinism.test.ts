// Determinism: the same image + config + seed gives the same event trace, every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../../core/machine';

const GUESTS = join(__dirname, '../../../../guests');

function traceHash(image: string, seed: number, quantum?: number): { hash: string; events: number; output: string } {
  const m = new Machine({ memoryMiB: 64, seed, quantum, maxInstructions: 50_000_000 });
  m.load(readFileSync(image), { imagePath: image });
  const h = createHash('sha256');
  let events = 0;
  m.onEvent((e) => { h.update(JSON.stringify(e)); events++; });
  let output = '';
  m.onSerial = (b) => { output += String.fromCharCode(b); };
  m.run();
  h.update(String(m.instructions()));
  return { hash: h.digest('hex'), events, output };
}

test('two runs of the same guest, config and seed give the same trace', () => {
  const image = join(GUESTS, 'exceptions/exceptions.elf');
  const a = traceHash(image, 7), b = traceHash(image, 7);
  assert.ok(a.events > 1000, `expected a real trace, got ${a.events} events`);
  assert.equal(a.hash, b.hash);
  assert.equal(a.output, b.output);
});

test('the trace records mode changes, exceptions, port writes and the stop', () => {
  const m = new Machine({ memoryMiB: 64 });
  const image = join(GUESTS, 'mode-switch/mode-switch.elf');
  m.load(readFileSync(image), { imagePath: image });
  const seen = new Map<string, number>();
  m.onEvent((e) => seen.set(e.type, (seen.get(e.type) ?? 0) + 1));
  m.run();
  for (const t of ['mode.change', 'port.write', 'serial.out', 'stop']) assert.ok(seen.get(t), `no ${t} event`);
  assert.equal(seen.get('stop'), 1);
});

test('a different quantum changes nothing for one vCPU: output and instruction count agree', () => {
  const image = join(GUESTS, 'cprog/cprog.elf');
  const a = traceHash(image, 1, 10000), b = traceHash(image, 2, 333);
  assert.equal(a.output, b.output);
});
