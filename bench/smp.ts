// SMP benchmarks, Hyperstep vs QEMU TCG (`-accel tcg,thread=single`: one host thread runs every
// vCPU, QEMU's fastest mode for IPI-heavy guests on this 2-core machine) in the same run:
// - IPI ping-pong round trips per second (guests/ipi-pingpong, 2 vCPUs, `rounds=N`), start-up
//   taken out on both machines by subtracting a rounds=1 run;
// - smp-boot time for 2, 8, 64 and 255 vCPUs, and 1024 (x2APIC) on Hyperstep alone, timed from
//   the guest's first serial byte to its last on both machines (see boot());
// - memory per vCPU on Hyperstep (and QEMU's resident memory per vCPU for comparison).
// Each time is the best of 3. `npm run bench` runs this after the one-vCPU benchmark
// (bench/run.ts); `node out/bench/smp.js` runs it alone.
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../core/machine';
import { appendRow, machineLine, today, Table } from './results';
import type { MemoryDelta } from './smp-memory';

const ROOT = join(__dirname, '../..');
const PINGPONG = join(ROOT, 'guests/ipi-pingpong/ipi-pingpong.elf');
const SMP_BOOT = join(ROOT, 'guests/smp-boot/smp-boot.elf');
// A million round trips: Hyperstep's JIT compiles the hot code and V8 optimizes it during the
// first 100k or so, which a shorter run would weigh more than the rate both machines sustain.
const IPI_ROUNDS = Number(process.env.BENCH_IPI_ROUNDS ?? 1_000_000);
const BOOT_VCPUS = [2, 8, 64, 255];
const HYPERSTEP_ONLY_VCPUS = 1024;
const MEMORY_VCPUS = [64, 1024];
const REPEAT = 3;
const KiB = 1024;

/**
 * `seconds`: the whole run (Hyperstep: Machine.run(); QEMU: the process). `window`: from the
 * guest's first serial byte to its last, which leaves out start-up, firmware and teardown on
 * both machines.
 */
interface Timed { seconds: number; window: number; output: string }

async function best<T extends Timed>(f: () => T | Promise<T>, key: 'seconds' | 'window' = 'seconds'): Promise<T> {
  let b: T | null = null;
  for (let k = 0; k < REPEAT; k++) { const r = await f(); if (!b || r[key] < b[key]) b = r; }
  return b!;
}

function hyperstep(image: string, vcpus: number, cmdline?: string): Timed {
  const m = new Machine({ vcpus, memoryMiB: 64, x2apic: vcpus > 255 });
  m.load(readFileSync(image), { imagePath: image, cmdline });
  let output = '';
  let first = 0n, last = 0n;
  m.onSerial = (b) => {
    last = process.hrtime.bigint();
    if (!output) first = last;
    output += String.fromCharCode(b);
  };
  const t0 = process.hrtime.bigint();
  const stop = m.run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (stop?.reason !== 'debug-exit') throw new Error(`${image} on ${vcpus} vCPUs stopped: ${stop?.message}\n${output}`);
  return { seconds, window: Number(last - first) / 1e9, output };
}

const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).status === 0;
const haveTime = existsSync('/usr/bin/time');

interface QemuTimed extends Timed { maxRssKiB: number | null }

/** Times the QEMU process and its serial output as it arrives; peak RSS when /usr/bin/time can tell. */
async function qemu(image: string, vcpus: number, cmdline?: string): Promise<QemuTimed> {
  const args = ['-nodefaults', '-display', 'none', '-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4',
    '-accel', 'tcg,thread=single', '-m', '64', '-smp', String(vcpus), '-no-reboot', '-kernel', image];
  if (cmdline !== undefined) args.push('-append', cmdline);
  const dir = haveTime ? mkdtempSync(join(tmpdir(), 'hs-bench-')) : null;
  const rssFile = dir ? join(dir, 'rss') : '';
  const [cmd, argv] = dir ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, 'qemu-system-x86_64', ...args]] : ['qemu-system-x86_64', args];
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '', stderr = '';
  let first = 0n, last = 0n;
  // QEMU's stdio chardev writes each byte as the guest sends it: arrival times are the guest's.
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    last = process.hrtime.bigint();
    if (!output) first = last;
    output += chunk;
  });
  child.stderr.setEncoding('latin1');
  child.stderr.on('data', (chunk: string) => { stderr += chunk; });
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let maxRssKiB: number | null = null;
  if (dir) {
    if (existsSync(rssFile)) maxRssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) || null;
    rmSync(dir, { recursive: true, force: true });
  }
  // isa-debug-exit makes QEMU's status (value << 1) | 1: the guests write 0 on success.
  if (status !== 1) throw new Error(`QEMU ${image} -smp ${vcpus} exited with ${status}: ${stderr}`);
  return { seconds, window: Number(last - first) / 1e9, output, maxRssKiB };
}

function sameOutput(what: string, ours: string, theirs: string): void {
  if (ours !== theirs) throw new Error(`${what}: QEMU printed ${JSON.stringify(theirs)}, Hyperstep ${JSON.stringify(ours)}`);
}

function checkedIn(output: string, vcpus: number): void {
  if (!output.includes(`fw_cfg says ${vcpus}, ${vcpus} checked in`) || !output.endsWith('PASS\n')) {
    throw new Error(`smp-boot on ${vcpus} vCPUs did not check every CPU in:\n${output}`);
  }
}

export interface PingPongResult { rounds: number; hyperstep: number; qemu: number | null }
export interface BootResult { vcpus: number; hyperstepMs: number; qemuMs: number | null; qemuMaxRssKiB: number | null }
export interface MemoryResult { vcpus: number; heapPerVcpu: number; arrayBuffersPerVcpu: number; rssPerVcpu: number }
export interface SmpResults {
  pingPong: PingPongResult;
  boot: BootResult[];
  memory: MemoryResult[];
  /** Cost of one more vCPU between the smallest and largest memory runs: fixed costs (guest RAM, code) cancel out. */
  marginal: { heap: number; arrayBuffers: number; rss: number };
  /** QEMU's peak RSS per extra vCPU between the smallest and largest smp-boot runs. */
  qemuRssPerVcpu: number | null;
}

/** Round trips per second: rounds=N against rounds=1 (the guest's minimum), start-up cancels. */
async function pingPong(): Promise<PingPongResult> {
  const cmd = `rounds=${IPI_ROUNDS}`;
  const h1 = await best(() => hyperstep(PINGPONG, 2, 'rounds=1'));
  const h = await best(() => hyperstep(PINGPONG, 2, cmd));
  const ours = (IPI_ROUNDS - 1) / (h.seconds - h1.seconds);
  console.log(`IPI ping-pong, Hyperstep: ${IPI_ROUNDS} round trips in ${h.seconds.toFixed(3)} s (${h1.seconds.toFixed(3)} s for 1) = ${Math.round(ours)} round trips/s`);
  if (!h.output.includes(`${IPI_ROUNDS} round trips`) || !h.output.endsWith('PASS\n')) throw new Error(`ipi-pingpong failed:\n${h.output}`);
  if (!haveQemu) return { rounds: IPI_ROUNDS, hyperstep: ours, qemu: null };
  const q1 = await best(() => qemu(PINGPONG, 2, 'rounds=1'));
  const q = await best(() => qemu(PINGPONG, 2, cmd));
  sameOutput('ipi-pingpong', h.output, q.output);
  const theirs = (IPI_ROUNDS - 1) / (q.seconds - q1.seconds);
  console.log(`IPI ping-pong, QEMU TCG:  ${IPI_ROUNDS} round trips in ${q.seconds.toFixed(3)} s (${q1.seconds.toFixed(3)} s for 1) = ${Math.round(theirs)} round trips/s`);
  console.log(`IPI ping-pong, ratio Hyperstep/QEMU: ${(ours / theirs).toFixed(3)}`);
  return { rounds: IPI_ROUNDS, hyperstep: ours, qemu: theirs };
}

/**
 * smp-boot from its first serial line (printed after reading the MADT, before the first INIT)
 * to its last (PASS). Subtracting a zero-work QEMU run does not work here: QEMU's start-up with
 * 255 vCPUs takes about 2 s and varies by more than the whole boot (it gave negative times).
 */
async function boot(vcpus: number, withQemu: boolean): Promise<BootResult> {
  const h = await best(() => hyperstep(SMP_BOOT, vcpus), 'window');
  checkedIn(h.output, vcpus);
  const hyperstepMs = h.window * 1000;
  let line = `smp-boot ${String(vcpus).padStart(4)} vCPUs: Hyperstep ${hyperstepMs.toFixed(1)} ms (whole run ${(h.seconds * 1000).toFixed(1)} ms)`;
  let qemuMs: number | null = null, qemuMaxRssKiB: number | null = null;
  if (withQemu) {
    const q = await best(() => qemu(SMP_BOOT, vcpus), 'window');
    sameOutput(`smp-boot -smp ${vcpus}`, h.output, q.output);
    qemuMs = q.window * 1000;
    qemuMaxRssKiB = q.maxRssKiB;
    line += `, QEMU TCG ${qemuMs.toFixed(1)} ms (whole process ${(q.seconds * 1000).toFixed(0)} ms), QEMU/Hyperstep ${(qemuMs / hyperstepMs).toFixed(2)}`;
  }
  console.log(line);
  return { vcpus, hyperstepMs, qemuMs, qemuMaxRssKiB };
}

function memory(vcpus: number): MemoryResult {
  const r = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'smp-memory.js'), String(vcpus)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`memory run for ${vcpus} vCPUs failed: ${r.stderr}`);
  const d = JSON.parse(r.stdout) as MemoryDelta;
  checkedIn(d.output, vcpus);
  const m = { vcpus, heapPerVcpu: d.heapUsed / vcpus, arrayBuffersPerVcpu: d.arrayBuffers / vcpus, rssPerVcpu: d.rss / vcpus };
  console.log(`memory ${vcpus} vCPUs booted: per vCPU ${kib(m.heapPerVcpu)} KiB heap, ${kib(m.arrayBuffersPerVcpu)} KiB typed arrays, ${kib(m.rssPerVcpu)} KiB RSS (64 MiB guest RAM and all included)`);
  return m;
}

function kib(bytes: number): string {
  return (bytes / KiB).toFixed(1);
}

export async function runSmpBench(): Promise<SmpResults> {
  // One untimed run of each guest first: V8 compiles the emulator's paths for real mode, the AP
  // trampoline and IPI delivery once per process, not once per Machine; the QEMU runs are
  // separate processes and have nothing to warm.
  hyperstep(SMP_BOOT, 8);
  hyperstep(PINGPONG, 2, 'rounds=1000');
  const pp = await pingPong();
  const bootResults: BootResult[] = [];
  for (const n of BOOT_VCPUS) bootResults.push(await boot(n, haveQemu));
  bootResults.push(await boot(HYPERSTEP_ONLY_VCPUS, false));
  const mem = MEMORY_VCPUS.map(memory);
  const [lo, hi] = [mem[0], mem[mem.length - 1]];
  const slope = (f: (m: MemoryResult) => number) => (f(hi) * hi.vcpus - f(lo) * lo.vcpus) / (hi.vcpus - lo.vcpus);
  const marginal = { heap: slope((m) => m.heapPerVcpu), arrayBuffers: slope((m) => m.arrayBuffersPerVcpu), rss: slope((m) => m.rssPerVcpu) };
  console.log(`memory per additional vCPU (${lo.vcpus} -> ${hi.vcpus}): ${kib(marginal.heap)} KiB heap, ${kib(marginal.arrayBuffers)} KiB typed arrays, ${kib(marginal.rss)} KiB RSS`);
  const withRss = bootResults.filter((b) => b.qemuMaxRssKiB !== null);
  let qemuRssPerVcpu: number | null = null;
  if (withRss.length >= 2) {
    const a = withRss[0], b = withRss[withRss.length - 1];
    qemuRssPerVcpu = ((b.qemuMaxRssKiB! - a.qemuMaxRssKiB!) * KiB) / (b.vcpus - a.vcpus);
    console.log(`QEMU TCG peak RSS per additional vCPU (${a.vcpus} -> ${b.vcpus}): ${kib(qemuRssPerVcpu)} KiB`);
  }
  return { pingPong: pp, boot: bootResults, memory: mem, marginal, qemuRssPerVcpu };
}

export const SMP_TABLE: Table = {
  intro: [
    '## SMP',
    '',
    'Appended by `npm run bench` (bench/smp.ts). QEMU runs `-accel tcg,thread=single -m 64` (one thread for all vCPUs,',
    'its fastest mode for IPI-heavy guests on 2 host cores), Hyperstep the in-process API with `memoryMiB: 64`; each',
    'time is the best of 3. IPI: guests/ipi-pingpong on 2 vCPUs, round trips per second, a rounds=1 run subtracted on',
    'both (QEMU: the whole process, Hyperstep: `Machine.run()`). boot: guests/smp-boot, ms from its first serial line',
    '(MADT read, no AP started yet) to its last, "Hyperstep / QEMU"; the guest waits 10.2 ms (INIT, STARTUP) on its',
    'LAPIC timer, real time under QEMU, virtual time on Hyperstep; 1024 vCPUs (x2APIC) on Hyperstep alone. Memory:',
    'Hyperstep heap + typed arrays per vCPU after booting 64 and 1024 vCPUs (fixed costs, 64 MiB guest RAM among them,',
    'included), then per additional vCPU between the two (heap / typed arrays / RSS); QEMU: peak RSS per additional',
    'vCPU, 2 -> 255.',
  ].join('\n'),
  header: '| date | machine | IPI rounds | IPI round trips/s Hyperstep | IPI QEMU TCG | IPI ratio | boot 2 vCPUs ms | boot 8 | boot 64 | boot 255 | boot 1024 | KiB/vCPU at 64 / 1024 | KiB per added vCPU | QEMU KiB per added vCPU |',
};

export function smpRow(r: SmpResults): string {
  const ms = (x: number | null) => (x === null ? 'n/a' : x.toFixed(1));
  const boots = r.boot.map((b) => (b.vcpus === HYPERSTEP_ONLY_VCPUS ? ms(b.hyperstepMs) : `${ms(b.hyperstepMs)} / ${ms(b.qemuMs)}`));
  const perVcpu = r.memory.map((m) => kib(m.heapPerVcpu + m.arrayBuffersPerVcpu)).join(' / ');
  const marginal = `${kib(r.marginal.heap)} / ${kib(r.marginal.arrayBuffers)} / ${kib(r.marginal.rss)}`;
  const pp = r.pingPong;
  return `| ${today()} | ${machineLine()} | ${pp.rounds} | ${Math.round(pp.hyperstep)} | ${pp.qemu === null ? 'n/a' : Math.round(pp.qemu)} | ${pp.qemu === null ? 'n/a' : (pp.hyperstep / pp.qemu).toFixed(3)} | ${boots.join(' | ')} | ${perVcpu} | ${marginal} | ${r.qemuRssPerVcpu === null ? 'n/a' : kib(r.qemuRssPerVcpu)} |`;
}

/** Runs the SMP benchmarks and appends their row to `resultsFile`. */
export async function smpBench(resultsFile: string): Promise<SmpResults> {
  const r = await runSmpBench();
  appendRow(resultsFile, SMP_TABLE, smpRow(r));
  console.log(`appended to ${resultsFile}`);
  return r;
}

if (require.main === module) {
  smpBench(join(ROOT, 'bench/RESULTS.md')).catch((e: unknown) => { console.error(e); process.exitCode = 1; });
}
