// Debug adapter benchmarks (issue "Debugger 3/4"), through the real adapter process over DAP:
// - with 256 vCPUs stopped, the time to answer threads + stackTrace + scopes + the LAPIC
//   variables of one vCPU (what a client asks for at every stop);
// - IPI ping-pong run to completion in a debug session with no event breakpoints armed, and
//   with 20 armed whose conditions never match (the cost of checking them on every event).
// `node out/bench/adapter.js` runs it alone; `npm run bench` runs it after the others.
import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { appendRow, machineLine, today, Table } from './results';

const ROOT = join(__dirname, '../..');
const CLI = join(ROOT, 'dist/hyperstep.js');
const SMP_BOOT = join(ROOT, 'guests/smp-boot/smp-boot.elf');
const PINGPONG = join(ROOT, 'guests/ipi-pingpong/ipi-pingpong.elf');
const ROUNDS = Number(process.env.BENCH_ADAPTER_ROUNDS ?? 30_000);
const REPEAT = 3;

async function startAdapter(): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [CLI, 'dap', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => { err += d; const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err); if (m) resolve(Number(m[1])); });
    proc.on('exit', (c) => reject(new Error(`adapter exited ${c}: ${err}`)));
  });
  return { proc, port };
}

async function session(port: number, args: Record<string, unknown>, before: (dc: DebugClient) => Promise<unknown>): Promise<DebugClient> {
  const dc = new DebugClient('node', CLI, 'hyperstep');
  await dc.start(port);
  await dc.initializeRequest({ adapterID: 'hyperstep', pathFormat: 'path' });
  await Promise.all([dc.waitForEvent('initialized'), dc.launchRequest(args as never)]);
  await before(dc);
  return dc;
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

/** One stop's worth of requests for vCPU `vcpu` with 256 vCPUs stopped: best and median of 7, in ms. */
async function stoppedRequests(port: number): Promise<{ best: number; median: number }> {
  const dc = await session(port, { program: SMP_BOOT, vcpus: 256, x2apic: true }, (d) => d.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'smp_ap_long_mode_ok' }] }));
  const stop = dc.waitForEvent('stopped', 600_000);
  const exited = dc.waitForEvent('exited', 600_000).then(() => { throw new Error('smp-boot exited without reaching smp_ap_long_mode_ok'); });
  await dc.configurationDoneRequest();
  await Promise.race([stop, exited]);
  const times: number[] = [];
  for (let k = 0; k < 7; k++) {
    const t0 = process.hrtime.bigint();
    const th = await dc.threadsRequest();
    if (th.body.threads.length !== 256) throw new Error(`${th.body.threads.length} threads`);
    const st = await dc.stackTraceRequest({ threadId: 201 });
    const sc = await dc.scopesRequest({ frameId: st.body.stackFrames[0].id });
    const lapic = sc.body.scopes.find((s) => s.name.startsWith('Local APIC'))!;
    const v = await dc.variablesRequest({ variablesReference: lapic.variablesReference });
    if (!v.body.variables.some((x) => x.name === 'ICR')) throw new Error('no ICR variable');
    times.push(ms(t0));
  }
  await dc.stop();
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[3] };
}

/** Seconds from configurationDone to the guest's exit. */
async function pingpong(port: number, filters: { filterId: string; condition?: string }[]): Promise<number> {
  const dc = await session(port, { program: PINGPONG, vcpus: 2, cmdline: `rounds=${ROUNDS}` }, (d) => d.setExceptionBreakpointsRequest({ filters: [], filterOptions: filters }));
  const exited = dc.waitForEvent('exited', 600_000);
  let stoppedEarly = false;
  dc.on('stopped', () => { stoppedEarly = true; });
  const t0 = process.hrtime.bigint();
  await dc.configurationDoneRequest();
  const e = await exited;
  const s = ms(t0) / 1000;
  await dc.stop();
  if (stoppedEarly || (e.body.exitCode & 1) !== 1) throw new Error(`ping-pong did not run to its end (exit ${e.body.exitCode})`);
  return s;
}

/** 20 event breakpoints that are checked on every matching event and never stop. */
export const UNHIT_FILTERS = [
  ...['reason == "NONE"', 'vcpu == 99', 'port == 0x1234', 'msr == 0x12345', 'address == 1'].map((condition) => ({ filterId: 'vmexit', condition })),
  ...['vector == 0x99', 'dst == 77', 'mode == "smi"', 'src == 55'].map((condition) => ({ filterId: 'ipi-send', condition })),
  ...['vector == 0x98', 'dst == 66', 'src == 44'].map((condition) => ({ filterId: 'ipi-deliver', condition })),
  ...['vector == 0x97', 'vcpu == 33', 'level == 2'].map((condition) => ({ filterId: 'eoi', condition })),
  { filterId: 'init', condition: 'dst == 99' }, { filterId: 'sipi', condition: 'vector == 0xee' },
  { filterId: 'rendezvous', condition: 'initiator == 99' }, { filterId: 'tlb-flush', condition: 'address == 0x123' },
  { filterId: 'invariant' },
];

export async function adapterBench(results: string): Promise<void> {
  const { proc, port } = await startAdapter();
  try {
    const req = await stoppedRequests(port);
    console.log(`256 vCPUs stopped: threads + stackTrace + scopes + LAPIC variables in ${req.best.toFixed(1)} ms (median ${req.median.toFixed(1)} ms)`);
    let none = Infinity, armed = Infinity;
    for (let k = 0; k < REPEAT; k++) {
      none = Math.min(none, await pingpong(port, []));
      armed = Math.min(armed, await pingpong(port, UNHIT_FILTERS));
    }
    const slow = (armed / none - 1) * 100;
    console.log(`ping-pong ${ROUNDS} rounds in a debug session: ${none.toFixed(3)} s with no event breakpoints, ${armed.toFixed(3)} s with ${UNHIT_FILTERS.length} armed (${slow >= 0 ? '+' : ''}${slow.toFixed(1)}%)`);
    const table: Table = {
      intro: 'Appended by `npm run bench` (bench/adapter.ts), through the adapter process over DAP. "stop requests": threads + stackTrace + scopes + Local APIC variables for one vCPU with 256 vCPUs stopped (best of 7, median). Ping-pong: `guests/ipi-pingpong` run to its end in a debug session, wall time from configurationDone to the exited event, best of 3, with no event breakpoints and with 20 armed that never match.',
      header: '| date | machine | stop requests, 256 vCPUs (ms) | median (ms) | ping-pong rounds | no breakpoints (s) | 20 armed (s) | slowdown |',
    };
    appendRow(results, table, `| ${today()} | ${machineLine()} | ${req.best.toFixed(1)} | ${req.median.toFixed(1)} | ${ROUNDS} | ${none.toFixed(3)} | ${armed.toFixed(3)} | ${slow.toFixed(1)}% |`);
  } finally {
    proc.kill();
  }
}

if (require.main === module) adapterBench(join(ROOT, 'bench/RESULTS.md')).catch((e: unknown) => { console.error(e); process.exitCode = 1; });
