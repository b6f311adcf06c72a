// The debug adapter over DAP, driven by @vscode/debugadapter-testsupport against the built
// CLI (`hyperstep dap --port 0`): launch, threads, event filters, stepping through
// INIT-SIPI-SIPI, variables, memory, REPL, breakpoints, pause, bad input.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { connect, launch, stopped, guest, stopAdapter } from './client';

after(() => stopAdapter());

const SMP = guest('smp-boot');

async function variables(dc: Awaited<ReturnType<typeof connect>>, threadId: number, scopeName: RegExp): Promise<Map<string, DebugProtocol.Variable>> {
  const st = await dc.stackTraceRequest({ threadId });
  const guestFrame = st.body.stackFrames.find((f) => f.presentationHint !== 'label') ?? st.body.stackFrames[0];
  const sc = await dc.scopesRequest({ frameId: guestFrame.id });
  const scope = sc.body.scopes.find((s) => scopeName.test(s.name));
  assert.ok(scope, `no scope ${scopeName} in ${sc.body.scopes.map((s) => s.name).join(', ')}`);
  const v = await dc.variablesRequest({ variablesReference: scope.variablesReference });
  return new Map(v.body.variables.map((x) => [x.name, x]));
}

test('initialize advertises the event filters with invariant and unsupported-instruction on by default', async () => {
  const dc = await connect();
  try {
    const r = await dc.initializeRequest({ adapterID: 'hyperstep', pathFormat: 'path' });
    const f = r.body!.exceptionBreakpointFilters!;
    assert.deepEqual(f.map((x) => x.filter), ['vmexit', 'ipi-send', 'ipi-deliver', 'init', 'sipi', 'eoi', 'rendezvous', 'tlb-flush', 'triple-fault', 'invariant', 'unsupported-instruction']);
    assert.deepEqual(f.filter((x) => x.default).map((x) => x.filter), ['invariant', 'unsupported-instruction']);
    assert.equal(r.body!.supportsInstructionBreakpoints, true);
    assert.equal(r.body!.supportsSingleThreadExecutionRequests, true);
    assert.equal(r.body!.supportsDataBreakpoints, true);
  } finally { await dc.stop(); }
});

test('bad launch arguments fail the launch with a message naming the argument', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ program: SMP, vcpu: 4 }, /unknown launch argument 'vcpu'/],
    [{ program: SMP, vcpus: 'four' }, /'vcpus' must be an integer from 1 to 1024/],
    [{ program: SMP, vcpus: 2000 }, /'vcpus' must be an integer/],
    [{ program: SMP, quirks: ['no-such-quirk'] }, /'quirks\[0\]' must be one of/],
    [{ program: SMP, capabilities: 'ipi-exit' }, /'capabilities' must be an array/],
    [{ program: SMP, stopOnEntry: 'yes' }, /'stopOnEntry' must be true or false/],
    [{}, /'program' is required/],
    [{ program: '/nonexistent/guest.elf' }, /'program': cannot read \/nonexistent\/guest.elf/],
  ];
  for (const [args, re] of cases) {
    const dc = await connect();
    try {
      await dc.initializeRequest({ adapterID: 'hyperstep', pathFormat: 'path' });
      await assert.rejects(dc.launchRequest(args as never), (e: Error) => re.test(e.message), `for ${JSON.stringify(args)}`);
    } finally { await dc.stop(); }
  }
  // A malformed image: the loader's error, not a crash.
  const dir = mkdtempSync(join(tmpdir(), 'hs-'));
  const bad = join(dir, 'bad.elf');
  writeFileSync(bad, Buffer.from('\x7fELF garbage'));
  const dc = await connect();
  try {
    await dc.initializeRequest({ adapterID: 'hyperstep', pathFormat: 'path' });
    await assert.rejects(dc.launchRequest({ program: bad } as never), /cannot start the VM: .*(ELF|header)/i);
  } finally { await dc.stop(); }
});

test('INIT-SIPI-SIPI as a debug session: stop on entry, break on INIT, step to each SIPI, the AP starts at vector << 12', async () => {
  const dc = await connect();
  try {
    await launch(dc, { program: SMP, vcpus: 4, stopOnEntry: true });
    await dc.setExceptionBreakpointsRequest({ filters: ['init', 'invariant'] });
    await Promise.all([dc.configurationDoneRequest(), (async () => {
      const s = await stopped(dc);
      assert.equal(s.reason, 'entry');
      assert.equal(s.threadId, 1);
      assert.equal(s.allThreadsStopped, true);
    })()]);
    let th = (await dc.threadsRequest()).body.threads;
    assert.equal(th.length, 4);
    assert.equal(th[0].name, 'vCPU 0 (BSP, protected mode)');
    assert.equal(th[1].name, 'vCPU 1 (AP, wait-for-SIPI)');

    // continue -> INIT from vCPU 0 to vCPU 1, with the ICR decoded in the event scope.
    let [s] = await Promise.all([stopped(dc), dc.continueRequest({ threadId: 1 })]);
    assert.equal(s.reason, 'exception');
    assert.equal(s.threadId, 1);
    assert.equal(s.description, 'IPI INIT from vCPU 0 to vCPU 1');
    const st = await dc.stackTraceRequest({ threadId: 1 });
    assert.match(st.body.stackFrames[0].name, /^vmm: vlapic ICR write - INIT to vCPU 1/);
    assert.match(st.body.stackFrames[1].name, /lapic_write|lapic_send_ipi|smp_boot/);
    const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    assert.equal(sc.body.scopes[0].name, 'Event: ipi.send');
    const ev = new Map((await dc.variablesRequest({ variablesReference: sc.body.scopes[0].variablesReference })).body.variables.map((v) => [v.name, v.value]));
    assert.equal(ev.get('mode'), 'init');
    assert.match(ev.get('ICR decoded')!, /mode=INIT destMode=physical .*level=assert trigger=level shorthand=none dest=0x01/);

    // Step to the next event of vCPU 0 (INIT de-assert, the INITs of the other APs, then the SIPI).
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    const targets = (await dc.stepInTargetsRequest({ frameId: st.body.stackFrames[1].id })).body.targets;
    assert.deepEqual(targets.map((t) => t.label), ['Next VM exit', 'Next IPI sent', 'Next IPI delivered', 'Next state change']);
    const nextIpi = targets.find((t) => t.label === 'Next IPI sent')!.id;
    const seen: string[] = [];
    for (let k = 0; k < 12 && !seen.some((d) => /SIPI/.test(d)); k++) {
      [s] = await Promise.all([stopped(dc), dc.stepInRequest({ threadId: 1, targetId: nextIpi })]);
      assert.equal(s.reason, 'step');
      seen.push(s.description!);
    }
    assert.match(seen[seen.length - 1], /^Next event on vCPU 0: IPI SIPI \(vector 0x08: start at 0x08000\) from vCPU 0 to vCPU 1$/);
    th = (await dc.threadsRequest()).body.threads;
    assert.equal(th[1].name, 'vCPU 1 (AP, real mode)');
    const ap = await dc.evaluateRequest({ expression: 'pc', context: 'watch', frameId: (await dc.stackTraceRequest({ threadId: 2 })).body.stackFrames[0].id });
    assert.match(ap.body.result, /^0x8000 /);
    const cs = await dc.evaluateRequest({ expression: 'cs', context: 'watch', frameId: (await dc.stackTraceRequest({ threadId: 2 })).body.stackFrames[0].id });
    assert.match(cs.body.result, /^0x800 /);

    // One instruction on the AP alone: it executes its trampoline's first instruction.
    [s] = await Promise.all([stopped(dc), dc.stepInRequest({ threadId: 2, granularity: 'instruction', singleThread: true })]);
    assert.equal(s.threadId, 2);
    const after1 = await dc.evaluateRequest({ expression: 'pc', context: 'watch', frameId: (await dc.stackTraceRequest({ threadId: 2 })).body.stackFrames[0].id });
    assert.notEqual(after1.body.result, ap.body.result);

    // The BSP's LAPIC as smp.c programmed it: SVR = enable | 0xff.
    const lapic = await variables(dc, 1, /^Local APIC/);
    assert.match(lapic.get('SVR')!.value, /^0x000001ff +vector=0xff software-enabled/);
    assert.equal(lapic.get('mode')!.value, 'xAPIC at 0xfee00000');
  } finally { await dc.stop(); }
});

test('hyperstep dap on stdio: answers initialize, and the process ends after disconnect', async () => {
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('./client');
  const p = spawn(process.execPath, [CLI, 'dap'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const send = (seq: number, command: string, args: object = {}): void => {
    const body = JSON.stringify({ seq, type: 'request', command, arguments: args });
    p.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };
  let out = '';
  const messages: { type: string; command?: string; event?: string; success?: boolean; body?: Record<string, unknown> }[] = [];
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (;;) {
      const m = /^Content-Length: (\d+)\r\n\r\n/.exec(out);
      if (!m || out.length < m[0].length + Number(m[1])) break;
      messages.push(JSON.parse(out.slice(m[0].length, m[0].length + Number(m[1]))));
      out = out.slice(m[0].length + Number(m[1]));
    }
  });
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  send(1, 'initialize', { adapterID: 'hyperstep', pathFormat: 'path' });
  send(2, 'disconnect');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 10 s'), 10_000))]);
  if (typeof code === 'string') p.kill();
  assert.equal(code, 0);
  const init = messages.find((m) => m.type === 'response' && m.command === 'initialize');
  assert.equal(init?.success, true);
  assert.ok(Array.isArray(init?.body?.exceptionBreakpointFilters));
  assert.ok(messages.some((m) => m.type === 'response' && m.command === 'disconnect' && m.success));
});
