// Source-level debugging from the guests' DWARF: a line breakpoint in C, the stack unwound
// through CFI with file and line per frame, stepping by line (next, in, out), disassembly
// with source locations.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { connect, launch, stopped, guest, stopAdapter, GUESTS } from './client';

after(() => stopAdapter());

const CPROG_C = join(GUESTS, 'cprog/cprog.c');

test('a line breakpoint in guest C source stops there; the stack shows the callers with their lines', async () => {
  const dc = await connect();
  try {
    await launch(dc, { program: guest('cprog') });
    const set = await dc.setBreakpointsRequest({ source: { path: CPROG_C }, breakpoints: [{ line: 64 }, { line: 62 }, { line: 9999 }] });
    const [b64, b62, bad] = set.body.breakpoints;
    assert.equal(b64.verified, true);
    assert.equal(b64.line, 64);
    // Line 62 is a comment: the breakpoint moves to the next line with code.
    assert.equal(b62.verified, true);
    assert.ok(b62.line! > 62, `moved to ${b62.line}`);
    assert.equal(bad.verified, false);
    await dc.setBreakpointsRequest({ source: { path: CPROG_C }, breakpoints: [{ line: 64 }] });
    const first = stopped(dc);
    await dc.configurationDoneRequest();
    const s = await first;
    assert.equal(s.reason, 'breakpoint');
    const st = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    assert.equal(st[0].source?.path, CPROG_C);
    assert.equal(st[0].line, 64);
    assert.match(st[0].name, /^quicksort/);
    // Callers through CFI: quicksort <- test_sort (line 80) (inlined into guest_main) <- _start.
    const names = st.map((f) => f.name.split(/[+ ]/)[0]);
    assert.ok(names.includes('guest_main') || names.includes('test_sort'), names.join(' < '));
    // Recursive quicksort frames call from line 64 or 67; the first other caller is test_sort's line 80.
    for (const f of st.slice(1).filter((x) => /^quicksort/.test(x.name))) assert.ok(f.line === 64 || f.line === 67, `quicksort called from ${f.line}`);
    const caller = st.find((f, k) => k > 0 && f.source?.path === CPROG_C && !/^quicksort/.test(f.name));
    assert.ok(caller, 'a caller frame in cprog.c');
    assert.equal(caller.line, 80);
    assert.match(st[st.length - 1].name, /_start/);

    // next: the following line of quicksort (the call runs to its return).
    const [n] = await Promise.all([stopped(dc), dc.nextRequest({ threadId: 1 })]);
    assert.equal(n.reason, 'step');
    const after = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    assert.equal(after.source?.path, CPROG_C);
    assert.notEqual(after.line, 64);
    assert.match(after.name, /^quicksort/);

    // stepOut: back in the caller, deeper frames gone.
    const depth = (await dc.stackTraceRequest({ threadId: 1 })).body.totalFrames!;
    await Promise.all([stopped(dc), dc.stepOutRequest({ threadId: 1 })]);
    const out = (await dc.stackTraceRequest({ threadId: 1 })).body;
    assert.equal(out.totalFrames, depth - 1);

    // stepIn by instruction moves one instruction; disassembly carries source lines.
    const pc0 = (await dc.evaluateRequest({ expression: 'pc', context: 'watch' })).body.result;
    await Promise.all([stopped(dc), dc.stepInRequest({ threadId: 1, granularity: 'instruction' })]);
    const pc1 = (await dc.evaluateRequest({ expression: 'pc', context: 'watch' })).body.result;
    assert.notEqual(pc1, pc0);
    const top = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
    const dis = (await dc.disassembleRequest({ memoryReference: top.instructionPointerReference!, instructionCount: 8, instructionOffset: -2 })).body!.instructions;
    assert.equal(dis.length, 8);
    assert.ok(dis.some((i: DebugProtocol.DisassembledInstruction) => i.location?.path === CPROG_C && typeof i.line === 'number'));

    // Virtual memory through vCPU 0's page tables (identity-mapped here) reads as the physical bytes.
    const ref = top.instructionPointerReference!;
    assert.match(ref, /^v0:0x[0-9a-f]+$/);
    const virt = await dc.customRequest('readMemory', { memoryReference: ref, count: 16 });
    const phys = await dc.customRequest('readMemory', { memoryReference: ref.slice(3), count: 16 });
    assert.equal(virt.body.data, phys.body.data);
    assert.equal(Buffer.from(virt.body.data, 'base64').length, 16);
    const sources = await dc.customRequest('loadedSources', {});
    assert.ok((sources.body.sources as { path: string }[]).some((x) => x.path === CPROG_C));
  } finally { await dc.stop(); }
});
