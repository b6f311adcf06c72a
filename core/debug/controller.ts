// The core's debugging primitives, independent of any protocol: instruction breakpoints,
// stepping predicates and event watches, all turned into Machine breaks at instruction
// boundaries. The debug adapter decides what to arm; this file makes it cheap and exact.
//
// Costs: a vCPU gets the per-instruction hook (and so runs without compiled blocks) only
// while an instruction breakpoint exists or it is being stepped; event watches cost one
// array lookup per event type that nobody watches.
import type { Machine } from '../machine';
import type { Cpu } from '../cpu/cpu';
import type { EventName, HsEvent } from '../trace/events';
import { CS } from '../cpu/regs';

/** The linear address of the instruction a vCPU executes next (CS base + RIP outside 64-bit mode). */
export function linearRip(c: Cpu): number {
  return c.mode64 ? c.rip : (c.segBase[CS] + c.rip) >>> 0;
}

export interface InstructionBreakpoint {
  /** Linear address. */
  address: number;
  /** Decides at the hit whether to stop (condition, hit count, logpoint); absent = always. */
  check?: (vcpu: number) => boolean;
  /** Anything the owner wants back in the break's detail. */
  tag?: unknown;
}

/** A step in progress: `done` runs before each instruction of `vcpu`; true breaks there. */
export interface StepRequest {
  vcpu: number;
  done: (c: Cpu, lin: number) => boolean;
  /** Only this vCPU runs until the step ends (DAP singleThread). */
  singleThread: boolean;
}

/** An event watch: returns a break (vcpu to report, detail) or null. */
export type EventWatch = (e: HsEvent) => { vcpu: number; detail: unknown } | null;

export type RunOutcome =
  | { kind: 'stop'; reason: string; message: string; vcpu: number; exitCode?: number }
  | { kind: 'break'; reason: 'breakpoint' | 'step' | 'event'; vcpu: number; detail: unknown }
  | { kind: 'budget' };

export class DebugController {
  private readonly breakpoints = new Map<number, InstructionBreakpoint[]>();
  private step: StepRequest | null = null;
  private readonly watches = new Map<EventName, EventWatch[]>();
  /** Per vCPU: resuming from a breakpoint at (instret, lin) must not hit it again (as EFLAGS.RF). */
  private readonly resumeInstret: Float64Array;
  private readonly resumeLin: Float64Array;
  private readonly hook: (c: Cpu) => boolean;
  private unsubscribe: (() => void) | null = null;

  constructor(readonly machine: Machine) {
    const n = machine.cpus.length;
    this.resumeInstret = new Float64Array(n).fill(-1);
    this.resumeLin = new Float64Array(n).fill(-1);
    this.hook = (c) => this.beforeInstruction(c);
  }

  // ---- arming -----------------------------------------------------------------------------

  setInstructionBreakpoints(list: readonly InstructionBreakpoint[]): void {
    this.breakpoints.clear();
    for (const b of list) {
      const at = this.breakpoints.get(b.address);
      if (at) at.push(b); else this.breakpoints.set(b.address, [b]);
    }
    this.installHooks();
  }

  hasBreakpointAt(address: number): boolean {
    return this.breakpoints.has(address);
  }

  /** Replaces the watches of one event type (an empty list removes them). */
  setWatches(type: EventName, watches: readonly EventWatch[]): void {
    if (watches.length === 0) this.watches.delete(type);
    else this.watches.set(type, watches.slice());
  }

  clearWatches(): void {
    this.watches.clear();
  }

  /** Listens to the machine's events (the owner may listen too; order of subscription decides who sees an event first). */
  attach(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.machine.onEvent((e) => this.onEvent(e));
  }

  detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  // ---- running ------------------------------------------------------------------------------

  /**
   * Runs the machine for up to `budget` instructions: until a breakpoint, a step's end, a
   * watched event, the VM's stop, or the budget. A step with singleThread runs its vCPU alone.
   */
  run(budget: number, step: StepRequest | null = null): RunOutcome {
    const m = this.machine;
    if (m.stopInfo) return this.stopOutcome();
    if (m.breakInfo !== null) {
      // Resuming: the vCPU that broke steps off the breakpoint it sits on (as EFLAGS.RF does).
      const k = m.breakInfo.vcpu;
      if (k >= 0 && k < m.cpus.length) { this.resumeInstret[k] = m.cpus[k].instret; this.resumeLin[k] = linearRip(m.cpus[k]); }
      m.resume();
    }
    this.step = step;
    this.installHooks();
    try {
      if (step !== null && step.singleThread) m.runVcpu(step.vcpu, budget);
      else m.run(budget);
    } finally {
      this.step = null;
      this.installHooks();
    }
    if (m.stopInfo) return this.stopOutcome();
    const b = m.breakInfo;
    if (b !== null) return { kind: 'break', reason: b.reason as 'breakpoint' | 'step' | 'event', vcpu: b.vcpu, detail: b.detail };
    return { kind: 'budget' };
  }

  /** A break at the current state (pause): the next run() resumes like after any break. */
  pause(vcpu: number): void {
    this.machine.requestBreak(vcpu, 'pause');
  }

  private stopOutcome(): RunOutcome {
    const s = this.machine.stopInfo!;
    return { kind: 'stop', reason: s.reason, message: s.message, vcpu: s.vcpu, exitCode: s.exitCode };
  }

  private installHooks(): void {
    const all = this.breakpoints.size > 0;
    for (const c of this.machine.cpus) {
      c.debugHook = all || (this.step !== null && this.step.vcpu === c.index) ? this.hook : null;
    }
  }

  private beforeInstruction(c: Cpu): boolean {
    const lin = linearRip(c);
    const s = this.step;
    if (s !== null && s.vcpu === c.index && s.done(c, lin)) {
      this.machine.requestBreak(c.index, 'step');
      return true;
    }
    const bps = this.breakpoints.get(lin);
    if (bps === undefined) return false;
    const k = c.index;
    if (this.resumeInstret[k] === c.instret && this.resumeLin[k] === lin) return false;
    // Every breakpoint here is asked (hit counts advance, logpoints print) before one stops the VM.
    let hit: InstructionBreakpoint | null = null;
    for (const b of bps) if ((b.check === undefined || b.check(k)) && hit === null) hit = b;
    if (hit === null) return false;
    this.machine.requestBreak(k, 'breakpoint', hit.tag);
    return true;
  }

  private onEvent(e: HsEvent): void {
    const list = this.watches.get(e.type);
    if (list === undefined) return;
    for (const w of list) {
      const hit = w(e);
      if (hit !== null) {
        this.machine.requestBreak(hit.vcpu, 'event', hit.detail);
        return;
      }
    }
  }
}
