// The IPI timeline's encoding (IPIs paired with their arrivals), its typed-array store and
// its geometry, on the event sequences the core emits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TimelineEvent } from '../../debug-adapter/protocol';
import { KIND, MODE, TARGET, TimelineEncoder, stateCode, exitText } from '../../extension/timeline/encoding';
import { TimelineStore } from '../../extension/timeline/store';
import { fit, laneAt, tickLabel, tickStep, timeRange, timeToX, visibleLanes, xToTime, zoomAt, Viewport } from '../../extension/timeline/viewport';
import { timelineCsp, timelineHtml } from '../../extension/timeline/html';

let seq = 0;
function ev(time: number, vcpu: number, type: string, data: Record<string, unknown>): TimelineEvent {
  return { seq: seq++, time, vcpu, type, data };
}
function send(time: number, vcpu: number, mode: string, vector: number, dest: number, shorthand = 'none', destMode = 'physical'): TimelineEvent {
  return ev(time, vcpu, 'ipi.send', { vector, mode, destMode, level: true, trigger: 'edge', shorthand, dest, x2apic: false, icrLow: 0, icrHigh: dest << 24 });
}

/** The smp-boot sequence for one AP: INIT, INIT de-assert, SIPI, SIPI (ignored), then an IPI back. */
function smpBoot(): TimelineEvent[] {
  return [
    ev(10, 0, 'exit', { reason: 'MMIO', direction: 'write', region: 'lapic', register: 'ICR_LOW', address: 0xfee00300 }),
    send(11, 0, 'init', 0, 1),
    ev(11, 0, 'rendezvous.begin', { initiator: 0, requested: [1], name: 'init' }),
    ev(12, 1, 'rendezvous.arrive', { name: 'init' }),
    ev(12, 1, 'exit', { reason: 'INIT', vector: 0 }),
    ev(12, 1, 'vcpu.state', { from: 'wait-for-sipi', to: 'wait-for-sipi' }),
    ev(13, 0, 'rendezvous.end', { name: 'init' }),
    send(20, 0, 'init-deassert', 0, 1),
    send(30, 0, 'startup', 0x08, 1),
    ev(31, 1, 'exit', { reason: 'SIPI', sipiVector: 0x08 }),
    ev(31, 1, 'vcpu.state', { from: 'wait-for-sipi', to: 'active' }),
    send(40, 0, 'startup', 0x08, 1),
    send(50, 1, 'fixed', 0x40, 0),
    ev(50, 0, 'ipi.accept', { vector: 0x40, trigger: 'edge', source: 'ipi' }),
    send(51, 1, 'fixed', 0x40, 0),
    ev(51, 0, 'ipi.collapse', { vector: 0x40, trigger: 'edge', source: 'ipi' }),
    ev(60, 0, 'eoi', { vector: 0x40, level: false }),
    ev(70, -1, 'stop', { reason: 'debug-exit', message: 'guest wrote 0 to isa-debug-exit', exitCode: 1 }),
  ];
}

test('IPIs are paired with their arrivals: INIT with the INIT exit, STARTUP with the SIPI exit, fixed with IRR', () => {
  const enc = new TimelineEncoder(2);
  const store = new TimelineStore();
  const b = enc.encode(smpBoot());
  store.append(b);
  assert.equal(store.count, 18);
  const rowOf = (kind: number, nth = 0): number => {
    const rows = [...Array(store.count).keys()].filter((r) => store.kind[r] === kind);
    return rows[nth];
  };
  const init = rowOf(KIND.INIT);
  assert.equal(store.linkFrom[init], 1, 'INIT exit on vCPU 1 answers the INIT sent by vCPU 0');
  assert.equal(store.mode[1], MODE.INIT);
  assert.equal(store.target[1], 1);
  const sipi = rowOf(KIND.SIPI);
  assert.equal(store.linkFrom[sipi], 8, 'the SIPI exit answers the first STARTUP');
  assert.equal(store.vector[sipi], 0x08);
  assert.equal(store.arrivals[11], 0, 'the second STARTUP reaches nobody (the AP is running: SDM 8.4.4.1)');
  assert.equal(store.arrivals[7], 0, 'INIT de-assert has no arrival');
  const accept = rowOf(KIND.IPI_ACCEPT);
  assert.equal(store.linkFrom[accept], rowOf(KIND.IPI_SEND, 4));
  const collapse = rowOf(KIND.IPI_COLLAPSE);
  assert.equal(store.linkFrom[collapse], rowOf(KIND.IPI_SEND, 5), 'the collapsed IPI is drawn as sent and lost');
  assert.equal(store.labels[store.label[collapse]], 'vector 0x40 from ipi collapsed: IRR bit already set, one interrupt lost on vCPU 0');
  assert.equal(store.labels[store.label[1]], 'IPI INIT from vCPU 0 to vCPU 1');
  assert.equal(store.labels[store.label[8]], 'IPI STARTUP (SIPI) vector 0x08 (start at 0x08000) from vCPU 0 to vCPU 1');
  assert.equal(store.labels[store.label[0]], 'VM exit MMIO write LAPIC ICR_LOW on vCPU 0');
  // The rendezvous is a span over its requested lanes.
  assert.deepEqual(store.spans, [{ begin: 2, end: 6, lo: 1, hi: 1 }]);
});

test('lane states: before its first change a lane is in that change\'s "from" state', () => {
  const store = new TimelineStore();
  store.append(new TimelineEncoder(2).encode(smpBoot()));
  assert.equal(store.stateAt(1, 0, stateCode('active')), stateCode('wait-for-sipi'));
  assert.equal(store.stateAt(1, 31, 0), stateCode('active'));
  assert.equal(store.stateAt(1, 30.5, 0), stateCode('wait-for-sipi'));
  assert.equal(store.stateAt(0, 40, stateCode('hlt')), stateCode('hlt'), 'no changes: the fallback');
});

test('broadcast and shorthand IPIs expect arrivals on every addressed vCPU', () => {
  const enc = new TimelineEncoder(4);
  const store = new TimelineStore();
  store.append(enc.encode([
    send(1, 0, 'fixed', 0x50, 0, 'all-but-self'),
    ev(1, 1, 'ipi.accept', { vector: 0x50, trigger: 'edge', source: 'ipi' }),
    ev(1, 2, 'ipi.accept', { vector: 0x50, trigger: 'edge', source: 'ipi' }),
    ev(1, 3, 'apic.reject', { vector: 0x50, source: 'ipi', reason: 'sw-disabled' }),
    send(2, 0, 'nmi', 2, 0xff),
    send(3, 2, 'fixed', 0x60, 0, 'self'),
    ev(3, 2, 'ipi.accept', { vector: 0x60, trigger: 'edge', source: 'ipi' }),
    ev(4, 0, 'ipi.accept', { vector: 0x30, trigger: 'edge', source: 'timer' }),
  ]));
  assert.equal(store.target[0], TARGET.ALL_BUT_SELF);
  assert.equal(store.arrivals[0], 3);
  assert.equal(store.kind[3], KIND.IPI_REJECT);
  assert.equal(store.linkFrom[3], 0);
  assert.equal(store.target[4], TARGET.ALL);
  assert.equal(store.target[5], 2);
  assert.equal(store.linkFrom[6], 5);
  assert.equal(store.linkFrom[7], -1, 'a timer interrupt is no IPI');
});

test('physical destinations follow the APIC IDs the adapter reports', () => {
  const enc = new TimelineEncoder(2);
  enc.setApicIds([0, 4]);
  const b = enc.encode([send(1, 0, 'fixed', 0x40, 4), send(2, 0, 'fixed', 0x40, 1)]);
  assert.deepEqual(b.target, [1, TARGET.UNKNOWN]);
});

test('batches continue one another; the store replays them as one batch', () => {
  const enc = new TimelineEncoder(2);
  const events = smpBoot();
  const a = new TimelineStore();
  a.append(enc.encode(events.slice(0, 5)));
  a.append(enc.encode(events.slice(5)));
  assert.throws(() => a.append({ ...enc.encode([]), first: 3 }), /starts at row 3/);
  const copy = new TimelineStore();
  copy.append(a.toBatch());
  assert.equal(copy.count, a.count);
  assert.deepEqual([...copy.linkFrom.subarray(0, copy.count)], [...a.linkFrom.subarray(0, a.count)]);
  assert.deepEqual(copy.labels, a.labels);
  // In chunks, labels sent once with the first.
  const chunked = new TimelineStore();
  chunked.append(a.toBatch(0, 9, true));
  chunked.append(a.toBatch(9, a.count, false));
  assert.deepEqual([...chunked.label.subarray(0, chunked.count)], [...a.label.subarray(0, a.count)]);
});

test('time search and hit testing', () => {
  const store = new TimelineStore();
  store.append(new TimelineEncoder(2).encode(smpBoot()));
  assert.equal(store.lowerBound(12), 3);
  assert.equal(store.upperBound(12), 6);
  assert.equal(store.lowerBound(1000), store.count);
  assert.equal(store.nearest(1, 30, 25, 35), 9);
  assert.equal(store.nearest(1, 45, 44, 46), -1);
});

test('four hundred thousand events: encoded, stored and searched, with memory in typed arrays', () => {
  const enc = new TimelineEncoder(8);
  const store = new TimelineStore();
  const N = 400_000;
  for (let base = 0; base < N; base += 10_000) {
    const batch: TimelineEvent[] = [];
    for (let k = base; k < base + 10_000; k++) {
      const v = k % 8;
      batch.push(k % 4 === 0 ? send(k * 10, v, 'fixed', 0x40, (v + 1) % 8)
        : k % 4 === 1 ? ev(k * 10, v, 'ipi.accept', { vector: 0x40, trigger: 'edge', source: 'ipi' })
        : ev(k * 10, v, 'exit', { reason: 'MMIO', direction: 'write', region: 'lapic', register: 'EOI' }));
    }
    store.append(enc.encode(batch));
  }
  assert.equal(store.count, N);
  assert.ok(store.labels.length < 100, `labels are interned (${store.labels.length})`);
  assert.equal(store.arrivals[0], 1);
  assert.equal(store.lowerBound(123_450), 12_345);
  const visible = store.upperBound(2_000_000) - store.lowerBound(1_000_000);
  assert.equal(visible, 100_001);
});

test('the viewport maps time to pixels, zooms around the pointer and fits a range', () => {
  const v: Viewport = { t0: 0, nsPerPx: 10, width: 1100, height: 300, gutter: 100, axis: 20, laneHeight: 20, scrollLane: 0 };
  assert.equal(timeToX(v, 1000), 200);
  assert.equal(xToTime(v, 200), 1000);
  assert.deepEqual(timeRange(v), [0, 10_000]);
  const z = zoomAt(v, 600, 0.5);
  assert.equal(z.nsPerPx, 5);
  assert.equal(xToTime(z, 600), xToTime(v, 600), 'the time under the pointer stays');
  const f = fit(v, 5000, 15000);
  assert.ok(timeToX(f, 5000) > v.gutter && timeToX(f, 15000) < v.width);
  assert.deepEqual(visibleLanes(v, 64), [0, 13]);
  assert.deepEqual(visibleLanes({ ...v, scrollLane: 60 }, 64), [60, 63]);
  assert.equal(laneAt(v, 45, 4), 1);
  assert.equal(laneAt(v, 10, 4), -1);
  assert.equal(tickStep(10), 1000);
  assert.equal(tickStep(3), 500);
  assert.equal(tickLabel(1_500_000, 500_000), '1.5 ms');
  assert.equal(tickLabel(400, 100), '400 ns');
});

test('the timeline page runs only its own script, under a strict Content Security Policy', () => {
  const o = { cspSource: 'https://webview.example', scriptUri: 'https://webview.example/dist/timeline-webview.js', styleUri: 'https://webview.example/media/timeline.css', nonce: 'abc123' };
  assert.equal(timelineCsp(o), "default-src 'none'; img-src https://webview.example; style-src https://webview.example; script-src 'nonce-abc123';");
  const html = timelineHtml(o);
  assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
  assert.doesNotMatch(html, /style="/);
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.match(html, /<script nonce="abc123" src="https:\/\/webview.example\/dist\/timeline-webview.js"><\/script>/);
});

test('exit labels read as the adapter names exits', () => {
  assert.equal(exitText(2, { reason: 'INOUT', direction: 'out', port: 0x3f8 }), 'VM exit INOUT out port 0x03f8 on vCPU 2');
  assert.equal(exitText(0, { reason: 'IPI', ipiMode: 'init', destinations: [1, 2] }), 'VM exit IPI init to vCPU 1, 2 on vCPU 0');
});
