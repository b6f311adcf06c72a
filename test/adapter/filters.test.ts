// Event filters: the generated per-type tests must decide exactly as the expression
// evaluator does, for every condition form (fast subset and the rest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../core/machine';
import type { HsEvent, EventName } from '../../core/trace/events';
import { EventFilters } from '../../debug-adapter/filters';
import { parse, evaluate, truthy } from '../../debug-adapter/expr';

function ev(seq: number, vcpu: number, type: EventName, data: object): HsEvent {
  return { seq, time: seq, vcpu, type, data } as HsEvent;
}

const EVENTS: HsEvent[] = [
  ev(1, 0, 'exit', { reason: 'MMIO', direction: 'write', region: 'lapic', register: 'ICR_LOW', address: 0xfee00300, value: 0x4500 }),
  ev(2, 1, 'exit', { reason: 'INOUT', direction: 'out', port: 0x3f8, size: 1, value: 0x41 }),
  ev(3, 0, 'ipi.send', { vector: 0x41, mode: 'fixed', destMode: 'physical', level: true, trigger: 'edge', shorthand: 'none', dest: 1, x2apic: false, icrLow: 0x4041, icrHigh: 0x1000000 }),
  ev(4, 1, 'ipi.accept', { vector: 0x41, trigger: 'edge', source: 'ipi' }),
  ev(5, 1, 'eoi', { vector: 0x41, level: false }),
  ev(6, 2, 'exit', { reason: 'SIPI', sipiVector: 8 }),
  ev(7, 0, 'ipi.send', { vector: 0, mode: 'init', destMode: 'physical', level: true, trigger: 'level', shorthand: 'none', dest: 2, x2apic: false, icrLow: 0xc500, icrHigh: 0x2000000 }),
];

const CONDITIONS: [string, string][] = [
  ['vmexit', 'reason == "MMIO" && register == "ICR_LOW"'],
  ['vmexit', 'port == 0x3f8'],
  ['vmexit', 'reason == INOUT && vcpu == 1'],
  ['vmexit', 'value > 0x40 && value < 0x100'],
  ['vmexit', '!(reason == "MMIO") || address >= 0xfee00300'],
  ['ipi-send', 'vector == 0x41 && dst == 1 && src == 0'],
  ['ipi-send', 'mode == "fixed" && shorthand == none'],
  ['ipi-deliver', 'dst == 1 && src == 0 && vector == 0x41'],
  ['ipi-deliver', 'dst == 2'],
  ['init', 'dst == 2'],
  ['eoi', 'vector == 0x41 && !level'],
  ['eoi', 'vector + 1 == 0x42'],
  ['vmexit', '(value & 0xff00) == 0x4500'],
  ['vmexit', 'port != 0x3f8'],
  ['eoi', 'level == 0'],
  ['ipi-send', '1 == level && x2apic == 0'],
  ['vmexit', '1 == vcpu && port == 1016'],
];

test('each armed condition stops exactly on the events the evaluator says it matches', () => {
  const m = new Machine({ vcpus: 4 });
  for (const [filterId, condition] of CONDITIONS) {
    const f = new EventFilters(m, () => {});
    f.set([{ filterId, condition }]);
    const watches = new Map(f.watches());
    const expected: number[] = [];
    const got: number[] = [];
    for (const e of EVENTS) {
      const w = watches.get(e.type);
      if (w && w(e) !== null) got.push(e.seq);
      // The reference: the filter's own gate, then the plain evaluator on the same fields.
      const gate = (f as unknown as { matches(id: string, e: HsEvent): number | null }).matches(filterId, e);
      let holds = false;
      try { holds = truthy(evaluate(parse(condition), f.env(e))); } catch { holds = false; }
      if (gate !== null && holds) expected.push(e.seq);
    }
    assert.deepEqual(got, expected, `${filterId}: ${condition}`);
  }
});

test('a condition no event can satisfy never stops, one that always holds stops on every gated event', () => {
  const m = new Machine({ vcpus: 4 });
  const f = new EventFilters(m, () => {});
  f.set([{ filterId: 'vmexit', condition: 'vcpu == 99' }, { filterId: 'ipi-send', condition: 'vector == 0x99' }]);
  const w = new Map(f.watches());
  for (const e of EVENTS) assert.equal(w.get(e.type)?.(e) ?? null, null, `event ${e.seq}`);
  f.set([{ filterId: 'vmexit', condition: 'vcpu >= 0' }]);
  const w2 = new Map(f.watches());
  assert.deepEqual(EVENTS.filter((e) => w2.get(e.type)?.(e)).map((e) => e.seq), [1, 2, 6]);
});
