// View models of the vCPUs view, the LAPIC panel and the status bar item.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LapicResponseBody, VcpuSummary } from '../../debug-adapter/protocol';
import { vcpuItems, vectorList, lifecycle } from '../../extension/model/vcpus';
import { lapicHtml, groupRegisters, escapeHtml } from '../../extension/model/lapic';
import { statusText, formatTime, formatCount } from '../../extension/model/status';
import { vcpuOfArgument } from '../../extension/model/arguments';

function vcpu(k: number, over: Partial<VcpuSummary> = {}): VcpuSummary {
  return {
    vcpu: k, threadId: k + 1, name: `vCPU ${k}`, bsp: k === 0, activity: k === 0 ? 'active' : 'wait-for-sipi', runState: k === 0 ? 'RUNNING' : 'SLEEPING',
    mode: k === 0 ? 'long64' : 'real', rip: k === 0 ? 0x101234 : 0, apicId: k, apicMode: 'xapic', tpr: 0, ppr: 0, irr: [], isr: [], ...over,
  };
}

test('the vCPUs view: one row per vCPU in order, its lifecycle state first, details below', () => {
  const items = vcpuItems([
    vcpu(1),
    vcpu(0, { symbol: 'send_init+0x1a', irr: [0x31, 0x40], isr: [0x40], tpr: 0x10, ppr: 0x40, lastExit: { reason: 'MMIO', detail: 'write LAPIC ICR_LOW' } }),
  ]);
  assert.deepEqual(items.map((i) => i.label), ['vCPU 0', 'vCPU 1']);
  assert.equal(items[0].description, 'BSP · running · long64 · send_init+0x1a');
  assert.equal(items[1].description, 'AP · wait-for-SIPI · real · 0x0');
  assert.equal(items[0].threadId, 1);
  const detail = Object.fromEntries(items[0].details.map((d) => [d.label, d.value]));
  assert.equal(detail['IRR (pending)'], '0x31, 0x40');
  assert.equal(detail['ISR (in service)'], '0x40');
  assert.equal(detail['TPR / PPR'], '0x10 / 0x40');
  assert.equal(detail['last exit'], 'MMIO · write LAPIC ICR_LOW');
  assert.equal(detail.RIP, '0x101234 <send_init+0x1a>');
  assert.equal(Object.fromEntries(items[1].details.map((d) => [d.label, d.value]))['last exit'], 'none yet');
  assert.equal(items[1].icon, 'debug-pause');
  assert.match(items[0].tooltip, /^vCPU 0\n/);
});

test('lifecycle names follow the SDM and bhyve', () => {
  assert.equal(lifecycle(vcpu(1)), 'wait-for-SIPI');
  assert.equal(lifecycle(vcpu(0, { activity: 'hlt' })), 'HLT');
  assert.equal(lifecycle(vcpu(0, { activity: 'shutdown' })), 'shutdown');
  assert.equal(vectorList([]), 'none');
});

test('the LAPIC panel groups registers as the SDM table does and escapes everything', () => {
  const body: LapicResponseBody = {
    vcpu: 1, mode: 'xapic', text: '',
    registers: [
      { name: 'ID', offset: 0x20, value: '0x01000000', decoded: 'id=1' },
      { name: 'ICR', offset: 0x300, value: '0x0000000100004500', decoded: 'vector=0x00 mode=init dest=1 <assert>' },
      { name: 'IRR', offset: 0x200, value: '', decoded: '0x40' },
      { name: 'LVT_TIMER', offset: 0x320, value: '0x00010000', decoded: 'masked' },
      { name: 'WEIRD', offset: 0x3f0, value: '0', decoded: '' },
    ],
  };
  assert.deepEqual(groupRegisters(body.registers).map((g) => g.title),
    ['Identification and priority', 'Interrupt state', 'Interrupt command', 'Local vector table', 'Other']);
  const html = lapicHtml(body, { csp: "default-src 'none'; style-src vscode-resource:;", styleUri: 'vscode-resource:/lapic.css', title: 'vCPU 1 (AP, wait-for-SIPI)' });
  assert.match(html, /<th scope="row">ICR<\/th><td class="offset">0x300<\/td><td class="value">0x0000000100004500<\/td><td class="decoded">vector=0x00 mode=init dest=1 &lt;assert&gt;<\/td>/);
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;; style-src vscode-resource:;"/);
  assert.doesNotMatch(html, /<script/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('the status bar shows virtual time, instructions and seed', () => {
  assert.equal(statusText({ timeNs: 3_402_117, instructions: 3_402_117, seed: 7, vcpus: 4, running: false }), '$(debug-pause) 3.402 ms · 3,402,117 instr · seed 7');
  assert.match(statusText({ timeNs: 5, instructions: 5, seed: 0, vcpus: 1, running: true }), /^\$\(sync~spin\) 5 ns/);
  assert.equal(formatTime(1_250_000_000), '1.250000 s');
  assert.equal(formatTime(12_500), '12.500 µs');
  assert.equal(formatCount(1234567), '1,234,567');
});

test('commands find their vCPU in a view row, a call stack thread, a number', () => {
  assert.equal(vcpuOfArgument(3), 3);
  assert.equal(vcpuOfArgument({ vcpu: 2, label: 'vCPU 2' }), 2);
  assert.equal(vcpuOfArgument({ label: 'IRR', parent: { vcpu: 1 } }), 1);
  assert.equal(vcpuOfArgument({ sessionId: 'x', threadId: 4 }), 3);
  assert.equal(vcpuOfArgument(undefined), undefined);
});
