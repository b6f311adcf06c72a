// The debugged VM: a Machine under a DebugController, run in slices so the adapter always
// answers, with breakpoints, event filters, stepping and the event record. Knows nothing
// of DAP (the session translates); like the core, it is driven by plain calls and reports
// through the RuntimeHost callbacks.
import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Machine, StopInfo } from '../core/machine';
import { DebugController, linearRip, StepRequest, EventWatch, RunOutcome } from '../core/debug/controller';
import { readVirtual } from '../core/debug/walk';
import { exitStatusOf } from '../core/exit-status';
import type { HsEvent, EventName } from '../core/trace/events';
import type { Cpu } from '../core/cpu/cpu';
import { decodeInsn } from '../core/cpu/decode';
import { Mnemonic } from '../core/cpu/iced';
import { Program, LineInfo } from './program';
import { hex } from './cpu-state';
import type { HyperstepLaunchArguments, EventFilterId, StepTargetKind, TimelineEvent, StatusEventBody } from './protocol';
import { EventFilters, FilterHit } from './filters';
import { DataWatches } from './data-watch';

export type StopReasonName = 'entry' | 'breakpoint' | 'step' | 'pause' | 'exception' | 'function breakpoint' | 'instruction breakpoint' | 'data breakpoint';

/** Why the VM is stopped now, as the session reports it. */
export interface StopContext {
  reason: StopReasonName;
  vcpu: number;
  description: string;
  text?: string;
  /** Ids of the breakpoints hit (source, function, instruction or data). */
  hitBreakpointIds?: number[];
  /** The event that stopped the VM (event filters, data breakpoints on LAPIC registers). */
  event?: HsEvent;
  /** The vmm frame to show on top of the guest's stack ("vmm: IPI exit - INIT to vCPU 1"). */
  vmmFrame?: string;
  /** The VM cannot continue (triple fault, invariant, unsupported instruction): continuing ends the session. */
  final?: StopInfo;
}

export interface RuntimeHost {
  stopped(s: StopContext): void;
  output(category: 'stdout' | 'stderr' | 'console', text: string): void;
  /** The guest finished: the session ends with this exit code. */
  exited(exitCode: number): void;
  events(batch: TimelineEvent[], dropped: number): void;
  status(s: StatusEventBody): void;
}

/** An armed code breakpoint, whatever the user set it as. */
export interface CodeBreakpoint {
  id: number;
  address: number;
  kind: 'source' | 'function' | 'instruction';
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  hits: number;
}

export type StepGranularity = 'instruction' | 'line';

/** Event types the timeline draws (the others stay in the record only). */
const TIMELINE_TYPES = new Set<string>(['ipi.send', 'ipi.accept', 'ipi.collapse', 'apic.reject', 'exit', 'eoi', 'rendezvous.begin', 'rendezvous.arrive',
  'rendezvous.end', 'vcpu.state', 'invariant', 'tlb.flush', 'stop', 'interrupt', 'apic.illegal']);
/** Events the timeline must not lose (IPIs, state changes, rendezvous); VM exits, EOIs and the rest are ticks, dropped first. */
const NOTABLE_TYPES = new Set<string>(['ipi.send', 'ipi.accept', 'ipi.collapse', 'apic.reject', 'rendezvous.begin', 'rendezvous.arrive', 'rendezvous.end', 'vcpu.state', 'invariant', 'stop', 'apic.illegal']);
const RECORD_LIMIT = 200_000;
/**
 * The live stream is a sample, so its cost does not grow with the guest's event rate: per
 * flush (4 a second at most while running) this many notable events and ticks. At every stop
 * the most recent events the sample skipped follow (up to TIMELINE_STOP_LIMIT), so the events
 * that led to the stop are all on the timeline; the whole record is in `trace` and exportTrace.
 */
const TIMELINE_NOTABLE_LIMIT = 2_000;
const TIMELINE_TICK_LIMIT = 500;
const TIMELINE_STOP_LIMIT = 20_000;
const SLICE_TARGET_MS = 12;

export class HyperstepRuntime {
  readonly machine: Machine;
  readonly controller: DebugController;
  readonly program: Program;
  readonly filters: EventFilters;
  readonly dataWatches: DataWatches;
  /** Code breakpoints by address (several may share one). */
  private codeBreakpoints: CodeBreakpoint[] = [];
  private running = false;
  private pauseRequested = false;
  private disposed = false;
  private budget = 200_000;
  private finished: StopInfo | null = null;
  private stepWatch: { type: EventName[]; watch: EventWatch } | null = null;
  /** The last stop, for stack traces and the "event" scope. */
  lastStop: StopContext | null = null;
  /** Every event since launch, up to RECORD_LIMIT (oldest dropped first). */
  private record: HsEvent[] = [];
  private recordDropped = 0;
  private timeline: TimelineEvent[] = [];
  private timelineTicks = 0;
  private timelineNotable = 0;
  private timelineDropped = 0;
  /** Sequence number of the last event queued for the timeline. */
  private timelineLastSeq = -1;
  private lastFlush = 0;
  private serial: number[] = [];
  private traceFd: number | null = null;
  private traceLines: string[] = [];
  /** Logpoint and condition evaluation: set by the session (it owns the expression environment). */
  evaluateCondition: (vcpu: number, expression: string) => boolean = () => true;
  logMessage: (vcpu: number, template: string) => string = (_v, t) => t;

  constructor(readonly args: HyperstepLaunchArguments, private readonly host: RuntimeHost, lines: LineInfo | null = null) {
    this.machine = new Machine({
      vcpus: args.vcpus, memoryMiB: args.memoryMiB, seed: args.seed, quantum: args.quantum, x2apic: args.x2apic,
      capabilities: args.capabilities, quirks: args.quirks, jit: args.jit,
    });
    const bytes = readFileSync(args.program);
    const img = this.machine.load(bytes, {
      format: args.format, cmdline: args.cmdline, imagePath: args.program, flatAddress: args.flatAddress, flatMode: args.flatMode,
    });
    for (const w of img.warnings) host.output('console', `warning: ${w}\n`);
    this.program = Program.fromFile(args.symbols, img.symbols, lines);
    this.controller = new DebugController(this.machine);
    this.machine.onSerial = (b) => { this.serial.push(b); };
    if (args.trace) this.traceFd = openSync(args.trace, 'w');
    // Recording first, so a stop's event is in the record before the session asks for it.
    this.machine.onEvent((e) => this.onEvent(e));
    this.controller.attach();
    this.filters = new EventFilters(this.machine, () => this.rebuildWatches());
    this.dataWatches = new DataWatches(this.machine);
  }

  get vcpus(): number {
    return this.machine.cpus.length;
  }

  isRunning(): boolean {
    return this.running;
  }

  // ---- events ---------------------------------------------------------------------------

  private onEvent(e: HsEvent): void {
    if (this.record.length >= RECORD_LIMIT) {
      // Drop the oldest tenth at once (amortised O(1) per event).
      const n = RECORD_LIMIT / 10;
      this.record.splice(0, n);
      this.recordDropped += n;
    }
    this.record.push(e);
    if (TIMELINE_TYPES.has(e.type)) {
      const notable = NOTABLE_TYPES.has(e.type);
      if (notable ? this.timelineNotable++ < TIMELINE_NOTABLE_LIMIT : this.timelineTicks++ < TIMELINE_TICK_LIMIT) {
        this.timeline.push(e as unknown as TimelineEvent);
        this.timelineLastSeq = e.seq;
      } else this.timelineDropped++;
    }
    if (this.traceFd !== null) {
      this.traceLines.push(JSON.stringify(e));
      if (this.traceLines.length >= 4096) this.flushTrace();
    }
  }

  private flushTrace(): void {
    if (this.traceFd !== null && this.traceLines.length) {
      writeSync(this.traceFd, this.traceLines.join('\n') + '\n');
      this.traceLines.length = 0;
    }
  }

  /** The last `n` recorded events (all when n is omitted). */
  recentEvents(n?: number): HsEvent[] {
    return n === undefined ? this.record.slice() : this.record.slice(Math.max(0, this.record.length - n));
  }

  recordedCount(): { kept: number; dropped: number } {
    return { kept: this.record.length, dropped: this.recordDropped };
  }

  /** Sends what accumulated: serial output, timeline events, status. */
  flush(force = false): void {
    if (this.serial.length) {
      this.host.output('stdout', Buffer.from(this.serial).toString('latin1'));
      this.serial.length = 0;
    }
    const now = performance.now();
    if (force || now - this.lastFlush > 250) {
      this.lastFlush = now;
      if (force && this.timelineDropped > 0) this.catchUpTimeline();
      if (this.timeline.length || this.timelineDropped) {
        this.host.events(this.timeline, this.timelineDropped);
        this.timeline = [];
        this.timelineDropped = 0;
        this.timelineNotable = 0;
        this.timelineTicks = 0;
      }
      this.host.status(this.status());
    }
    this.flushTrace();
  }

  /** At a stop: the latest timeline events the live sample skipped, oldest first. */
  private catchUpTimeline(): void {
    const tail: TimelineEvent[] = [];
    for (let k = this.record.length - 1; k >= 0 && tail.length < TIMELINE_STOP_LIMIT; k--) {
      const e = this.record[k];
      if (e.seq <= this.timelineLastSeq) break;
      if (TIMELINE_TYPES.has(e.type)) tail.push(e as unknown as TimelineEvent);
    }
    tail.reverse();
    for (const e of tail) this.timeline.push(e);
    this.timelineDropped -= tail.length;
    if (tail.length) this.timelineLastSeq = tail[tail.length - 1].seq;
  }

  status(): StatusEventBody {
    return { timeNs: this.machine.time.nowNs(), instructions: this.machine.instructions(), seed: this.machine.config.seed, vcpus: this.vcpus, running: this.running };
  }

  // ---- breakpoints ----------------------------------------------------------------------------

  /** Replaces the code breakpoints of one kind (source breakpoints: of one file, by `group`). */
  setCodeBreakpoints(kind: CodeBreakpoint['kind'], group: string, list: Omit<CodeBreakpoint, 'kind' | 'hits'>[]): void {
    const key = `${kind}:${group}`;
    this.codeBreakpoints = this.codeBreakpoints.filter((b) => (b as CodeBreakpoint & { group?: string }).group !== key);
    for (const b of list) this.codeBreakpoints.push(Object.assign({ ...b, kind, hits: 0 }, { group: key }));
    this.armCodeBreakpoints();
    // Armed breakpoints turn compiled blocks off: start the next slice small, or it could run long.
    this.budget = Math.min(this.budget, 100_000);
  }

  private armCodeBreakpoints(): void {
    if (this.args.noDebug) return;
    this.controller.setInstructionBreakpoints(this.codeBreakpoints.map((b) => ({ address: b.address, tag: b, check: (v: number) => this.shouldStop(b, v) })));
  }

  /** Condition, hit count and logpoint of a breakpoint at a hit (SDM-free: DAP semantics). */
  private shouldStop(b: CodeBreakpoint, vcpu: number): boolean {
    if (b.condition && !this.evaluateCondition(vcpu, b.condition)) return false;
    b.hits++;
    if (b.hitCondition && !hitConditionMet(b.hitCondition, b.hits)) return false;
    if (b.logMessage !== undefined) {
      this.host.output('console', this.logMessage(vcpu, b.logMessage) + '\n');
      return false;
    }
    return true;
  }

  private rebuildWatches(): void {
    const byType = new Map<EventName, EventWatch[]>();
    const add = (t: EventName, w: EventWatch): void => { const l = byType.get(t); if (l) l.push(w); else byType.set(t, [w]); };
    if (!this.args.noDebug) {
      for (const [t, w] of this.filters.watches()) add(t, w);
      for (const [t, w] of this.dataWatches.watches()) add(t, w);
    }
    if (this.stepWatch) for (const t of this.stepWatch.type) add(t, this.stepWatch.watch);
    this.controller.clearWatches();
    for (const [t, ws] of byType) this.controller.setWatches(t, ws);
  }

  /** Data watches changed (the session armed or cleared some). */
  dataWatchesChanged(): void {
    this.rebuildWatches();
  }

  // ---- execution --------------------------------------------------------------------------

  /** Starts (or resumes) all vCPUs until something stops them. */
  continue(): void {
    if (this.finished) { this.end(this.finished); return; }
    this.resumeWith(null);
  }

  /** Stops all vCPUs at the next slice boundary (within one slice, ~12 ms). */
  pause(): void {
    if (this.running) this.pauseRequested = true;
  }

  /**
   * Steps vCPU `vcpu`: `in` (into calls), `over` (calls run to their return), `out` (to the
   * caller); by instruction or by source line. All-stop: the other vCPUs run as scheduled
   * unless `singleThread`.
   */
  step(vcpu: number, kind: 'in' | 'over' | 'out', granularity: StepGranularity, singleThread: boolean): void {
    if (this.finished) { this.end(this.finished); return; }
    const c = this.machine.cpus[vcpu];
    const start = c.instret, startLin = linearRip(c), startSp = stackPointer(c);
    const lines = granularity === 'line' ? this.program.lines : null;
    const startLine = lines?.lineAt(startLin) ?? null;
    const startFn = this.program.functionAt(startLin);
    let done: StepRequest['done'];
    if (kind === 'out') {
      const ret = this.returnAddress(c);
      done = ret !== null
        ? (cc, lin) => lin === ret.pc && stackPointer(cc) > startSp
        // Without unwind information: the first instruction outside the function, with the stack above where it was.
        : (cc, lin) => cc.instret > start && stackPointer(cc) > startSp && this.program.functionAt(lin) !== startFn;
    } else {
      const insn = kind === 'over' ? this.decodeAt(c) : null;
      const callReturn = insn !== null && insn.isCall ? startLin + insn.len : -1;
      let inCall = false;
      done = (cc, lin) => {
        if (cc.instret === start && lin === startLin) return false;
        if (callReturn >= 0 && cc.instret === start + 1 && lin !== callReturn) inCall = true;
        if (inCall) {
          if (lin !== callReturn || stackPointer(cc) < startSp) return false;
          inCall = false;
        }
        if (lines === null || startLine === null) return true;
        // By line: stop at the start of a statement of another line (or of any line, once out of the function).
        if (!lines.isStatement(lin)) return false;
        const l = lines.lineAt(lin);
        if (l === null) return false;
        if (l.line === startLine.line && l.path === startLine.path) return false;
        if (kind === 'over' && stackPointer(cc) < startSp && this.program.functionAt(lin) !== startFn) return false;
        return true;
      };
    }
    this.resumeWith({ vcpu, done, singleThread });
  }

  /** Runs (all-stop) until vCPU `vcpu`'s next event of a kind: "step to next event". */
  stepToEvent(vcpu: number, kind: StepTargetKind): void {
    if (this.finished) { this.end(this.finished); return; }
    const types: Record<StepTargetKind, EventName[]> = {
      exit: ['exit'], 'ipi-send': ['ipi.send'], 'ipi-deliver': ['ipi.accept', 'exit'], state: ['vcpu.state', 'mode.change'],
    };
    const watch: EventWatch = (e) => {
      if (e.vcpu !== vcpu) return null;
      if (kind === 'ipi-deliver') {
        if (e.type === 'ipi.accept' && (e.data as { source: string }).source !== 'ipi') return null;
        if (e.type === 'exit' && !['INIT', 'SIPI'].includes((e.data as { reason: string }).reason)) return null;
      }
      return { vcpu, detail: { step: kind, event: e } };
    };
    this.stepWatch = { type: types[kind], watch };
    this.rebuildWatches();
    this.resumeWith(null);
  }

  private resumeWith(step: StepRequest | null): void {
    if (this.running || this.disposed) return;
    this.running = true;
    this.pauseRequested = false;
    this.lastStop = null;
    const slice = (): void => {
      if (this.disposed) return;
      if (this.pauseRequested) {
        this.running = false;
        this.endStepWatch();
        const v = this.focusVcpu();
        this.reportStop({ reason: 'pause', vcpu: v, description: `Paused (all vCPUs stopped; vCPU ${v} runs next)` });
        return;
      }
      const t0 = performance.now();
      let o: RunOutcome;
      try {
        o = this.controller.run(this.budget, step);
      } catch (e) {
        this.running = false;
        this.host.output('stderr', `hyperstep: internal error: ${(e as Error).stack ?? e}\n`);
        this.end({ reason: 'error', message: String(e), vcpu: -1 });
        return;
      }
      const dt = performance.now() - t0;
      // Keep slices near SLICE_TARGET_MS whatever the speed (JIT, interpreter with hooks, idle).
      this.budget = Math.max(1000, Math.min(50_000_000, Math.round(this.budget * Math.min(4, SLICE_TARGET_MS / Math.max(dt, 0.05)))));
      if (o.kind === 'budget') {
        this.flush();
        setImmediate(slice);
        return;
      }
      this.running = false;
      this.endStepWatch();
      try {
        if (o.kind === 'break') this.onBreak(o);
        else this.onVmStop(this.machine.stopInfo!);
      } catch (e) {
        // Still stopped, and still answering: report the stop plainly.
        this.host.output('stderr', `hyperstep: internal error while reporting a stop: ${(e as Error).stack ?? e}\n`);
        this.reportStop({ reason: 'pause', vcpu: o.kind === 'break' ? o.vcpu : 0, description: 'Stopped (see the internal error in the Debug Console)' });
      }
    };
    setImmediate(slice);
  }

  private endStepWatch(): void {
    if (this.stepWatch) { this.stepWatch = null; this.rebuildWatches(); }
  }

  /** The vCPU a pause or an entry stop reports: the one that runs next, else the BSP. */
  private focusVcpu(): number {
    const k = this.machine.currentVcpu();
    return k >= 0 ? k : 0;
  }

  private onBreak(o: Extract<RunOutcome, { kind: 'break' }>): void {
    if (o.reason === 'breakpoint') {
      const b = o.detail as CodeBreakpoint;
      const same = this.codeBreakpoints.filter((x) => x.address === b.address).map((x) => x.id);
      const where = this.program.describe(b.address) ?? hex(b.address);
      const reason: StopReasonName = b.kind === 'function' ? 'function breakpoint' : b.kind === 'instruction' ? 'instruction breakpoint' : 'breakpoint';
      this.reportStop({ reason, vcpu: o.vcpu, description: `Breakpoint at ${where} on vCPU ${o.vcpu}`, hitBreakpointIds: same });
      return;
    }
    if (o.reason === 'step') {
      this.reportStop({ reason: 'step', vcpu: o.vcpu, description: `Step on vCPU ${o.vcpu}` });
      return;
    }
    const d = o.detail as ({ step: StepTargetKind; event: HsEvent }) | FilterHit | { data: { id: number; text: string; event?: HsEvent } };
    if ('step' in d) {
      const text = this.filters.describeEvent(d.event);
      this.reportStop({ reason: 'step', vcpu: o.vcpu, description: `Next event on vCPU ${o.vcpu}: ${text}`, text, event: d.event, vmmFrame: this.filters.vmmFrame(d.event) });
      return;
    }
    if ('data' in d) {
      this.reportStop({ reason: 'data breakpoint', vcpu: o.vcpu, description: d.data.text, text: d.data.text, hitBreakpointIds: [d.data.id], ...(d.data.event ? { event: d.data.event, vmmFrame: this.filters.vmmFrame(d.data.event) } : {}) });
      return;
    }
    this.reportStop({ reason: 'exception', vcpu: o.vcpu, description: d.text, text: d.text, event: d.event, vmmFrame: this.filters.vmmFrame(d.event) });
  }

  /** The VM stopped for good. Stops the user can inspect first (exception filters) are reported as such. */
  private onVmStop(s: StopInfo): void {
    const filter: EventFilterId | null = s.reason === 'triple-fault' ? 'triple-fault' : s.reason === 'invariant' ? 'invariant' : s.reason === 'unsupported' ? 'unsupported-instruction' : null;
    if (filter !== null && this.filters.enabled(filter) && !this.args.noDebug) {
      this.finished = s;
      const vcpu = s.vcpu >= 0 ? s.vcpu : 0;
      const label = filter === 'triple-fault' ? 'Triple fault' : filter === 'invariant' ? 'Invariant broken' : 'Unsupported instruction';
      this.reportStop({ reason: 'exception', vcpu, description: `${label}: ${s.message}`, text: s.message, final: s, vmmFrame: `vmm: ${s.reason === 'triple-fault' ? 'TRIPLE_FAULT exit - vCPU shut down' : s.reason === 'invariant' ? 'invariant check failed' : 'instruction not emulated'}` });
      return;
    }
    this.end(s);
  }

  private reportStop(s: StopContext): void {
    this.lastStop = s;
    this.flush(true);
    this.host.stopped(s);
  }

  /** Stop on entry: nothing has run yet. */
  entryStop(): void {
    this.reportStop({ reason: 'entry', vcpu: 0, description: `Stopped on entry: vCPU 0 (BSP) at ${this.program.describe(linearRip(this.machine.cpus[0])) ?? hex(linearRip(this.machine.cpus[0]))}` });
  }

  private end(s: StopInfo): void {
    this.flush(true);
    if (s.reason !== 'debug-exit') this.host.output('stderr', `hyperstep: ${s.message}\n`);
    const code = exitStatusOf(s);
    this.dispose();
    this.host.exited(code);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.flushTrace();
    if (this.traceFd !== null) { closeSync(this.traceFd); this.traceFd = null; }
    this.controller.detach();
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Decodes the instruction at a vCPU's RIP without side effects (null if unmapped). */
  decodeAt(c: Cpu): { len: number; isCall: boolean } | null {
    const bytes = readVirtual(c, linearRip(c), 15) ?? readVirtual(c, linearRip(c), 1);
    if (bytes === null) return null;
    const i = decodeInsn(bytes, c.bits);
    if (i === null) return null;
    return { len: i.len, isCall: i.mnem === Mnemonic.Call };
  }

  /** The return address of the current function: from CFI when available, else [sp] at a function's first instruction. */
  returnAddress(c: Cpu): { pc: number; sp: number } | null {
    const frames = this.unwind(c, 2);
    if (frames.length >= 2) return { pc: frames[1].pc, sp: frames[1].sp };
    return null;
  }

  /** Guest frames, innermost first: [current, caller, ...] (CFI from DWARF, else frame pointers inside the DWARF reader). */
  unwind(c: Cpu, max: number): { pc: number; sp: number; fp: number }[] {
    const pc = linearRip(c);
    const gpr = (k: number): number => (c.mode64 ? (c.gpr[k + 16] >>> 0) * 4294967296 + (c.gpr[k] >>> 0) : c.gpr[k] >>> 0);
    const gprs = Array.from({ length: c.mode64 ? 16 : 8 }, (_, k) => gpr(k));
    const out = [{ pc, sp: gprs[4], fp: gprs[5] }];
    const lines = this.program.lines;
    if (lines?.unwindFrom && max > 1 && c.activity !== 'wait-for-sipi') {
      const read = (a: number, size: number): number | null => {
        const b = readVirtual(c, a, size);
        if (b === null) return null;
        let v = 0;
        for (let k = size - 1; k >= 0; k--) v = v * 256 + b[k];
        return v;
      };
      try {
        for (const f of lines.unwindFrom(pc, gprs, read, c.mode64, max - 1)) out.push(f);
      } catch {
        // A partial stack is still useful.
      }
    }
    return out.slice(0, max);
  }
}

/** Stack pointer as an unsigned linear-ish number (SS base added outside 64-bit mode). */
export function stackPointer(c: Cpu): number {
  if (c.mode64) return (c.gpr[20] >>> 0) * 4294967296 + (c.gpr[4] >>> 0);
  return c.bits === 16 ? c.segBase[2] + (c.gpr[4] & 0xffff) : (c.segBase[2] + (c.gpr[4] >>> 0)) % 4294967296;
}


/** DAP hit conditions: "5" (stop at the 5th hit and after), ">= 5", "> 5", "== 5", "% 5" (every 5th). */
export function hitConditionMet(cond: string, hits: number): boolean {
  const m = /^\s*(>=|>|==|=|%)?\s*(\d+)\s*$/.exec(cond);
  if (!m) return true;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>': return hits > n;
    case '==': case '=': return hits === n;
    case '%': return n > 0 && hits % n === 0;
    default: return hits >= n;
  }
}
