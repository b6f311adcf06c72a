// Every other request against the real adapter: guest output and exit code, code/data/event
// breakpoints, pause, memory, disassembly, setVariable, evaluate, REPL, custom requests,
// restart, and bad requests that must get error responses (the adapter keeps answering).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { connect, launch, stopped, guest, stopAdapter, CLI, GUESTS } from './client';

after(() => stopAdapter());

async function configure(dc: DebugClient, f: () => Promise<unknown> = async () => undefined): Promise<void> {
  await f();
  await dc.configurationDoneRequest();
}

/** configurationDone, having already listened for the first stop (it may come before the response). */
async function configureAndStop(dc: DebugClient, f: () => Promise<unknown> = async () => undefined): Promise<Awaited<ReturnType<typeof stopped>>> {
  await f();
  const first = stopped(dc);
  await dc.configurationDoneRequest();
  return first;
}

async function topFrame(dc: DebugClient, threadId: number): Promise<DebugProtocol.StackFrame> {
  const st = await dc.stackTraceRequest({ threadId });
  return st.body.stackFrames.find((f) => f.presentationHint !== 'label') ?? st.body.stackFrames[0];
}

async function scope(dc: DebugClient, threadId: number, name: RegExp): Promise<{ ref: number; vars: Map<string, DebugProtocol.Variable> }> {
  const sc = await dc.scopesRequest({ frameId: (await topFrame(dc, threadId)).id });
  const s = sc.body.scopes.find((x) => name.test(x.name))!;
  const v = await dc.variablesRequest({ variablesReference: s.variablesReference });
  return { ref: s.variablesReference, vars: new Map(v.body.variables.map((x) => [x.name, x])) };
}

async function repl(dc: DebugClient, expression: string, threadId = 1): Promise<string> {
  return (await dc.evaluateRequest({ expression, context: 'repl', frameId: (await topFrame(dc, threadId)).id })).body.result;
}

test('guest serial output arrives as stdout output events and the guest exit ends the session with its status', async () => {
  const image = guest('hello');
  const cli = spawnSync(process.execPath, [CLI, 'run', image], { encoding: 'latin1' });
  const dc = await connect();
  try {
    let out = '';
    dc.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.category === 'stdout') out += e.body.output; });
    await launch(dc, { program: image });
    const exited = dc.waitForEvent('exited');
    const terminated = dc.waitForEvent('terminated');
    await configure(dc);
    assert.equal((await exited).body.exitCode, cli.status);
    await terminated;
    assert.equal(out, cli.stdout);
    assert.match(out, /Hello from Hyperstep!/);
  } finally { await dc.stop(); }
});

test('a function breakpoint with a condition stops only the AP it names; hit ids and thread are reported', async () => {
  const dc = await connect();
  try {
    await launch(dc, { program: guest('smp-boot'), vcpus: 4 });
    let ids: number[] = [];
    const s = await configureAndStop(dc, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'smp_ap_entry', condition: 'vcpu == 3' }, { name: 'no_such_function' }] });
      assert.equal(r.body.breakpoints[0].verified, true);
      assert.equal(r.body.breakpoints[1].verified, false);
      assert.match(r.body.breakpoints[1].message!, /no symbol 'no_such_function'/);
      ids = [r.body.breakpoints[0].id!];
    });
    assert.equal(s.reason, 'function breakpoint');
    assert.equal(s.threadId, 4);
    assert.deepEqual(s.hitBreakpointIds, ids);
    assert.match((await topFrame(dc, 4)).name, /^smp_ap_entry +\[long64\]$/);
    // The other APs did not stop there: they are elsewhere.
    const pc = await repl(dc, 'pc', 4);
    assert.match(pc, /^0x100e70 /);
  } finally { await dc.stop(); }
});

test('a memory write watch stops at the writer; a data breakpoint on vCPU 1\'s IRR stops when it gains vector 0x40', async () => {
  const dc = await connect();
  try {
    await launch(dc, { program: guest('ipis'), vcpus: 4, stopOnEntry: true });
    await configureAndStop(dc);
    // Memory: the byte long_mode_ok[2] (AP 2 writes 1 there once it runs 64-bit code).
    const mem = await dc.dataBreakpointInfoRequest({ name: '*(u8*)(long_mode_ok + 2)', frameId: (await topFrame(dc, 1)).id });
    assert.match(mem.body.dataId!, /^mem:\d+:1$/);
    // The BSP's BSS clearing writes zeros there first: the condition skips those.
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: mem.body.dataId!, accessType: 'write', condition: 'value != 0' }] });
    const w = await Promise.all([stopped(dc), dc.continueRequest({ threadId: 1 })]).then((x) => x[0]);
    assert.equal(w.reason, 'data breakpoint');
    assert.match(w.description!, /^vCPU 2 wrote 0x01 to guest-physical 0x/);
    assert.equal(w.threadId, 3);
    assert.equal(await repl(dc, '*(u8*)(long_mode_ok + 2)', 3), '1');

    const lapic = await scope(dc, 2, /^Local APIC \(vCPU 1\)/);
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: lapic.ref, name: 'IRR' });
    assert.equal(info.body.dataId, 'lapic:1:IRR');
    const set = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, condition: 'gained && vector == 0x40' }] });
    assert.equal(set.body.breakpoints[0].verified, true);
    const s = await Promise.all([stopped(dc), dc.continueRequest({ threadId: 1 })]).then((x) => x[0]);
    assert.equal(s.reason, 'data breakpoint');
    assert.equal(s.threadId, 2);
    assert.match(s.description!, /^vCPU 1 IRR gained 0x40/);
    const irr = (await scope(dc, 2, /^Local APIC \(vCPU 1\)/)).vars.get('IRR')!;
    assert.match(irr.value, /0x40/);
  } finally { await dc.stop(); }
});

test('pause stops a spinning guest; instruction breakpoints, disassembly, memory and registers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-'));
  const spin = join(dir, 'spin.bin');
  // mov eax, 0x1234; inc ecx; jmp $-2 (spin incrementing ecx)
  writeFileSync(spin, Buffer.from([0xb8, 0x34, 0x12, 0, 0, 0x41, 0xeb, 0xfd]));
  const dc = await connect();
  try {
    await launch(dc, { program: spin, format: 'flat', flatAddress: 0x100000, flatMode: 'protected32' });
    await configure(dc);
    await new Promise((r) => setTimeout(r, 300));
    const [s] = await Promise.all([stopped(dc), dc.pauseRequest({ threadId: 1 })]);
    assert.equal(s.reason, 'pause');
    assert.equal(await repl(dc, 'eax'), '0x1234 (4660)');
    const ecx = BigInt((await repl(dc, 'ecx')).split(' ')[0]);
    assert.ok(ecx > 1000n, `ecx ${ecx}`);

    const dis = await dc.disassembleRequest({ memoryReference: '0x100000', instructionCount: 3 });
    assert.deepEqual(dis.body!.instructions.map((i) => [i.address, i.instruction]), [['0x100000', 'mov $0x1234,%eax'], ['0x100005', 'inc %ecx'], ['0x100006', 'jmp 0x00100005']]);

    const mem = await dc.customRequest('readMemory', { memoryReference: '0x100000', count: 8 }) as DebugProtocol.ReadMemoryResponse;
    assert.equal(Buffer.from(mem.body!.data!, 'base64').toString('hex'), 'b834120000 41ebfd'.replace(' ', ''));
    const unmapped = await dc.customRequest('readMemory', { memoryReference: '0xfffffff0', count: 32 }) as DebugProtocol.ReadMemoryResponse;
    assert.ok((unmapped.body!.unreadableBytes ?? 0) > 0);

    // Patch the loop's INC ECX into INC EDX (0x42) through writeMemory; the decode cache must follow.
    await dc.customRequest('writeMemory', { memoryReference: '0x100005', data: Buffer.from([0x42]).toString('base64') });
    const frame = await topFrame(dc, 1);
    const regs = await scope(dc, 1, /^Registers$/);
    await dc.setVariableRequest({ variablesReference: regs.ref, name: 'edx', value: '0' });
    const bp = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0x100006' }] });
    assert.equal((bp as DebugProtocol.SetInstructionBreakpointsResponse).body.breakpoints[0].verified, true);
    for (let k = 1; k <= 3; k++) {
      const b = await Promise.all([stopped(dc), dc.continueRequest({ threadId: 1 })]).then((x) => x[0]);
      assert.equal(b.reason, 'instruction breakpoint');
      const edx = await repl(dc, 'edx');
      // The first stop may come before the patched instruction ran once more.
      assert.ok(BigInt(edx.split(' ')[0]) >= BigInt(k - 1), edx);
    }
    assert.equal(await repl(dc, 'pc'), '0x100006 (1048582)');
    assert.ok(frame.instructionPointerReference);
  } finally { await dc.stop(); }
});

test('bad requests get error responses, never a crash', async () => {
  const dc = await connect();
  try {
    await launch(dc, { program: guest('smp-boot'), vcpus: 2, stopOnEntry: true });
    await configureAndStop(dc);
    await assert.rejects(dc.stackTraceRequest({ threadId: 99 }), /unknown thread 99/);
    await assert.rejects(dc.customRequest('readMemory', { memoryReference: 'zzz', count: 4 }), /bad memory reference 'zzz'/);
    await assert.rejects(dc.customRequest('readMemory', { memoryReference: 'v7:0x1000', count: 4 }), /names vCPU 7/);
    await assert.rejects(dc.evaluateRequest({ expression: '1 +', context: 'watch' }), /expression ends too early/);
    await assert.rejects(dc.evaluateRequest({ expression: 'no_such_symbol + 1', context: 'watch' }), /unknown name 'no_such_symbol'/);
    await assert.rejects(dc.evaluateRequest({ expression: '*(u32*)0xfee00300', context: 'watch' }), /cannot read 4 bytes at 0xfee00300/);
    await assert.rejects(dc.variablesRequest({ variablesReference: 987654 }), /unknown variablesReference/);
    await assert.rejects(dc.scopesRequest({ frameId: 424242 }), /unknown frame/);
    await assert.rejects(dc.customRequest('hyperstep/lapic', { vcpu: 9 }), /no vCPU 9/);
    await assert.rejects(dc.customRequest('noSuchRequest', {}), /unknown request 'noSuchRequest'/);
    await assert.rejects(dc.setExceptionBreakpointsRequest({ filters: ['bogus'] }), /unknown exception filter 'bogus'/);
    await assert.rejects(dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vmexit', condition: 'reason ==' }] }), /condition of 'vmexit'/);
    await assert.rejects(dc.customRequest('disassemble', { memoryReference: '0x100000', instructionCount: -1 }), /instructionCount/);
    await assert.rejects(dc.evaluateRequest({ expression: 'lapic 12', context: 'repl' }), /no vCPU '12'/);
    // Still answering.
    assert.equal((await dc.threadsRequest()).body.threads.length, 2);
  } finally { await dc.stop(); }
});

test('REPL commands, LAPIC writes through the LAPIC, conditions on vmexit, custom requests, trace export and restart', async () => {
  const dc = await connect();
  try {
    const events: unknown[] = [];
    dc.on('hyperstep/events', (e: DebugProtocol.Event) => events.push(...(e.body.events as unknown[])));
    await launch(dc, { program: guest('smp-boot'), vcpus: 2 });
    const s = await configureAndStop(dc, () => dc.setExceptionBreakpointsRequest({ filters: [], filterOptions: [{ filterId: 'vmexit', condition: 'reason == "MMIO" && register == "ICR_LOW" && vcpu == 0' }] }));
    assert.equal(s.reason, 'exception');
    assert.equal(s.description, 'VM exit MMIO write LAPIC ICR_LOW on vCPU 0');
    assert.ok(events.length > 0, 'timeline events arrived before the stop');

    assert.match(await repl(dc, 'help'), /ipi SRC DST VECTOR/);
    const l0 = await repl(dc, 'lapic 0');
    assert.match(l0, /^vCPU 0 LAPIC: xAPIC at 0xfee00000, BSP/);
    assert.match(l0, /SVR +0x000001ff +vector=0xff software-enabled/);
    assert.match(await repl(dc, 'exits 0'), /MMIO/);
    assert.match(await repl(dc, 'ioapic'), /pin 23: .* masked/);
    assert.match(await repl(dc, 'trace 3'), /^#\d+ t=\d+ns/);
    assert.match(await repl(dc, 'vcpus'), /vCPU 1: wait-for-sipi/);
    assert.match(await repl(dc, 'rendezvous'), /no rendezvous in progress|rendezvous "/);
    // The xAPIC page the ICR write went through, identity-mapped, supervisor read/write.
    assert.match(await repl(dc, 'tlb 0'), /^vCPU 0 TLB: \d+ entr[^]*\n {2}0x0000fee00000 -> 0x00fee00000 RW[X-]S/);

    // TPR 0x50 through the LAPIC's own write path: PPR follows.
    const lapic = await scope(dc, 1, /^Local APIC \(vCPU 0\)/);
    const r = await dc.setVariableRequest({ variablesReference: lapic.ref, name: 'TPR', value: '0x50' });
    assert.match(r.body.value, /^0x00000050 +class=5/);
    assert.match((await scope(dc, 1, /^Local APIC \(vCPU 0\)/)).vars.get('PPR')!.value, /^0x00000050/);
    assert.equal(await repl(dc, 'lapic.TPR'), '0x50 (80)');

    // An injected fixed IPI reaches vCPU 1's IRR? vCPU 1 waits for SIPI: it is accepted or not as the SDM says.
    assert.match(await repl(dc, 'ipi 0 0 0x41'), /ipi.send@vCPU 0/);
    assert.match((await dc.customRequest('hyperstep/lapic', { vcpu: 0 })).body.text as string, /IRR +0x41/);
    const vc = (await dc.customRequest('hyperstep/vcpus')).body;
    assert.equal(vc.vcpus.length, 2);
    assert.equal(vc.vcpus[1].activity, 'wait-for-sipi');
    assert.deepEqual(vc.vcpus[0].irr, [0x41]);
    assert.equal(vc.status.vcpus, 2);

    const dir = mkdtempSync(join(tmpdir(), 'hs-'));
    const out = join(dir, 'trace.jsonl');
    const ex = (await dc.customRequest('hyperstep/exportTrace', { path: out })).body;
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, ex.events);
    // The last events are the injected IPI's.
    assert.equal(JSON.parse(lines[lines.length - 1]).type, 'ipi.accept');
    assert.ok(lines.every((l, k) => k === 0 || JSON.parse(l).seq > JSON.parse(lines[k - 1]).seq));

    // Restart: a fresh VM, stopped again at the same first ICR write.
    const [again] = await Promise.all([stopped(dc), dc.restartRequest({})]);
    assert.equal(again.description, 'VM exit MMIO write LAPIC ICR_LOW on vCPU 0');
    assert.equal(await repl(dc, 'lapic.TPR'), '0');
  } finally { await dc.stop(); }
});


test('hit counts and logpoints: the second AP to enter stops; a logpoint prints for every AP without stopping', async () => {
  const dc = await connect();
  try {
    let console_ = '';
    dc.on('output', (e: DebugProtocol.OutputEvent) => { if (e.body.category === 'console') console_ += e.body.output; });
    await launch(dc, { program: guest('smp-boot'), vcpus: 4 });
    const s = await configureAndStop(dc, async () => {
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'smp_ap_entry', hitCondition: '2' }] });
      // A logpoint (source breakpoints carry logMessage in DAP) on the first line of smp_ap_entry.
      const r = await dc.setBreakpointsRequest({ source: { path: join(GUESTS, 'common/smp.c') }, breakpoints: [{ line: 273, logMessage: 'AP {vcpu} entered at {pc}' }] });
      assert.equal(r.body.breakpoints[0].verified, true);
    });
    assert.equal(s.reason, 'function breakpoint');
    const first = [...console_.matchAll(/AP (0x)?(\d) entered at 0x100e[0-9a-f]{2}/g)].map((m) => m[2]);
    assert.equal(first.length, 2, console_);
    assert.equal(`${Number(first[1]) + 1}`, String(s.threadId));
  } finally { await dc.stop(); }
});

test('stepping is deterministic: the same steps from the same state reach the same state', async () => {
  const trail = async (): Promise<string[]> => {
    const dc = await connect();
    try {
      await launch(dc, { program: guest('smp-boot'), vcpus: 3, seed: 5 });
      await configureAndStop(dc, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'smp_boot' }] }));
      await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
      const out: string[] = [];
      for (let k = 0; k < 6; k++) {
        const targets = (await dc.stepInTargetsRequest({ frameId: (await topFrame(dc, 1)).id })).body.targets;
        await Promise.all([stopped(dc), dc.stepInRequest({ threadId: 1, targetId: targets[k % 2 === 0 ? 0 : 1].id })]);
        await Promise.all([stopped(dc), dc.nextRequest({ threadId: 1, granularity: 'instruction' })]);
        out.push(`${await repl(dc, 'pc')} ${await repl(dc, 'rsp')} ${(await dc.customRequest('hyperstep/vcpus')).body.status.instructions}`);
      }
      return out;
    } finally { await dc.stop(); }
  };
  const a = await trail(), b = await trail();
  assert.equal(new Set(a).size, a.length, 'every step moved');
  assert.deepEqual(b, a);
});

test('a triple fault and an unsupported instruction stop as exceptions the user can inspect; continuing ends the session with their status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-'));
  // lidt [0x100010] (an empty IDT), int3 -> #GP -> #DF -> shutdown.
  const tf = join(dir, 'triple.bin');
  writeFileSync(tf, Buffer.from([0x0f, 0x01, 0x1d, 0x10, 0x00, 0x10, 0x00, 0xcc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  // fld1: x87 arithmetic is not implemented (the unsupported-instruction filter is on by default).
  const un = join(dir, 'x87.bin');
  writeFileSync(un, Buffer.from([0x90, 0xd9, 0xe8, 0xf4]));
  const cases: [string, string[], RegExp, number][] = [
    [tf, ['triple-fault'], /^Triple fault: /, 4],
    [un, [], /^Unsupported instruction: unsupported instruction `fld1` \(d9 e8\) at .*0x00100001.* on vCPU 0/, 6],
  ];
  for (const [image, filters, re, status] of cases) {
    const dc = await connect();
    try {
      await launch(dc, { program: image, format: 'flat' });
      const s = await configureAndStop(dc, async () => { if (filters.length) await dc.setExceptionBreakpointsRequest({ filters }); });
      assert.equal(s.reason, 'exception');
      assert.match(s.description!, re);
      const info = await dc.exceptionInfoRequest({ threadId: 1 });
      assert.match(info.body.description!, re);
      const exited = dc.waitForEvent('exited');
      await dc.continueRequest({ threadId: 1 });
      assert.equal((await exited).body.exitCode, status);
    } finally { await dc.stop(); }
  }
});

test('a long run reports progress to clients that support it, and the stop ends it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hs-'));
  const spin = join(dir, 'spin.bin');
  writeFileSync(spin, Buffer.from([0x41, 0xeb, 0xfd]));
  const dc = await connect();
  try {
    await dc.initializeRequest({ adapterID: 'hyperstep', pathFormat: 'path', supportsProgressReporting: true });
    await Promise.all([dc.waitForEvent('initialized'), dc.launchRequest({ program: spin, format: 'flat' } as never)]);
    const start = dc.waitForEvent('progressStart');
    await dc.configurationDoneRequest();
    const p = await start;
    assert.match(p.body.title, /guest running/);
    await dc.waitForEvent('progressUpdate');
    const end = dc.waitForEvent('progressEnd');
    await Promise.all([stopped(dc), dc.pauseRequest({ threadId: 1 })]);
    assert.equal((await end).body.progressId, p.body.progressId);
  } finally { await dc.stop(); }
});
