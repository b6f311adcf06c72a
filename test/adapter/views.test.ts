// The core state the debugger's views share (debug-adapter/cpu-state.ts): TLB entries and the
// rendezvous in progress, as the Variables scopes and the Debug Console commands show them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../../core/machine';
import { tlbEntries, rendezvousState } from '../../debug-adapter/cpu-state';

test('tlbEntries lists the filled entries only, with their rights', () => {
  const m = new Machine({ vcpus: 1, memoryMiB: 16 });
  const c = m.cpus[0];
  assert.deepEqual(tlbEntries(c), [], 'a new vCPU has an empty TLB');
  assert.equal(c.translate(0x1234, 0), 0x1234); // paging off: an identity entry, every right
  assert.deepEqual(tlbEntries(c), [{ lin: '0x000000001000', pa: '0x0000001000', rights: 'RWXUD', largeKiB: 0 }]);
});

test('rendezvousState: requested, done and blocking vCPUs, and who waits', () => {
  const m = new Machine({ vcpus: 3, memoryMiB: 16 });
  assert.equal(rendezvousState(m), null);
  // vCPU 2 waits for SIPI, so it takes part at once; vCPU 0 is running and has not arrived yet.
  m.vmm.beginRendezvous('test', 0, [0, 2], () => {}, true);
  assert.deepEqual(rendezvousState(m), { name: 'test', initiator: 'vCPU 0 (waiting)', requested: [0, 2], done: [2], blocking: [0] });
});
