// `npm run bench`: guest instructions per second on one vCPU, Hyperstep vs QEMU TCG, on the
// same compute-heavy guest in the same run, then the SMP benchmarks (bench/smp.ts) and the debug
// adapter's (bench/adapter.ts). Appends the figures to bench/RESULTS.md (BENCH_SMP=0 and
// BENCH_ADAPTER=0 skip those parts).
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Machine } from '../core/machine';
import { appendRow, machineLine, today, Table } from './results';
import { smpBench } from './smp';
import { adapterBench } from './adapter';

const ROOT = join(__dirname, '../..');
const IMAGE = join(ROOT, 'guests/bench/bench.elf');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

function hyperstep(rounds: number): { instructions: number; seconds: number; output: string } {
  const m = new Machine({ memoryMiB: 64 });
  m.load(readFileSync(IMAGE), { imagePath: IMAGE, cmdline: `rounds=${rounds}` });
  let output = '';
  m.onSerial = (b) => { output += String.fromCharCode(b); };
  const t0 = process.hrtime.bigint();
  const stop = m.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (stop?.reason !== 'debug-exit') throw new Error(`bench guest stopped: ${stop?.message}`);
  return { instructions: m.instructions(), seconds, output };
}

function qemu(rounds: number): { seconds: number; output: string } | null {
  const which = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  if (which.status !== 0) return null;
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-x86_64', ['-nodefaults', '-display', 'none', '-serial', 'stdio', '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x4', '-accel', 'tcg,thread=single', '-m', '64', '-no-reboot', '-kernel', IMAGE,
    '-append', `rounds=${rounds}`], { encoding: 'latin1', timeout: 600_000 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, output: r.stdout };
}

function best<T extends { seconds: number }>(n: number, f: () => T): T {
  let b: T | null = null;
  for (let k = 0; k < n; k++) { const r = f(); if (!b || r.seconds < b.seconds) b = r; }
  return b!;
}

const h0 = hyperstep(0);
const h = best(2, () => hyperstep(ROUNDS));
const guestInstructions = h.instructions - h0.instructions;
const ours = guestInstructions / (h.seconds - h0.seconds);
console.log(`Hyperstep: ${h.instructions} instructions in ${h.seconds.toFixed(3)} s = ${(h.instructions / h.seconds / 1e6).toFixed(1)} M instructions/s`);

const q0 = qemu(0) && best(3, () => qemu(0)!);
const q = q0 && best(3, () => qemu(ROUNDS)!);
let qemuIps: number | null = null;
if (q && q0) {
  if (q.output !== h.output) throw new Error(`QEMU printed ${JSON.stringify(q.output)}, Hyperstep ${JSON.stringify(h.output)}`);
  // The guest's instruction count is the same on both machines (same program, same input);
  // QEMU's start-up is taken out by subtracting a zero-round run.
  qemuIps = guestInstructions / (q.seconds - q0.seconds);
  console.log(`QEMU TCG:  ${guestInstructions} instructions in ${(q.seconds - q0.seconds).toFixed(3)} s = ${(qemuIps / 1e6).toFixed(1)} M instructions/s`);
  console.log(`ratio Hyperstep/QEMU: ${(ours / qemuIps).toFixed(3)}`);
} else {
  console.log('QEMU TCG: skipped (qemu-system-x86_64 not installed)');
}

const results = join(ROOT, 'bench/RESULTS.md');
const ONE_VCPU_TABLE: Table = {
  intro: 'Appended by `npm run bench`. Guest instructions per second on one vCPU, guest `guests/bench` (integer work: CRC32, sieve, sort, matrix product), QEMU start-up subtracted.',
  header: '| date | machine | rounds | guest instructions | Hyperstep M instr/s | QEMU TCG M instr/s | ratio |',
};
appendRow(results, ONE_VCPU_TABLE, `| ${today()} | ${machineLine()} | ${ROUNDS} | ${guestInstructions} | ${(ours / 1e6).toFixed(1)} | ${qemuIps ? (qemuIps / 1e6).toFixed(1) : 'n/a'} | ${qemuIps ? (ours / qemuIps).toFixed(3) : 'n/a'} |`);
console.log(`appended to ${results}`);

// The SMP benchmarks (IPI ping-pong, smp-boot, memory per vCPU) in the same run: bench/smp.ts;
// then the debug adapter's (bench/adapter.ts). BENCH_SMP=0 and BENCH_ADAPTER=0 skip them.
(async () => {
  if (process.env.BENCH_SMP !== '0') await smpBench(results);
  if (process.env.BENCH_ADAPTER !== '0') await adapterBench(results);
})().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
