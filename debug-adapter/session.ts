// The DAP session: one method per request, translating between the protocol and the
// runtime (runtime.ts), which knows nothing of DAP. Every request answers, with an error
// response naming the problem when it cannot be done; nothing a client sends crashes it.
import {
  LoggingDebugSession, InitializedEvent, TerminatedEvent, ExitedEvent, StoppedEvent, OutputEvent, Event, Handles,
  InvalidatedEvent, ProgressStartEvent, ProgressUpdateEvent, ProgressEndEvent, MemoryEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { basename } from 'node:path';
import { HyperstepRuntime, StopContext, CodeBreakpoint } from './runtime';
import { validateLaunchArguments, LaunchError } from './launch';
import { VariableStore } from './variables';
import { readRegister, writeRegister, addr64, hex, isRegisterName } from './cpu-state';
import { parse, evaluate, evaluateString, truthy, Env, ExprError, Value } from './expr';
import { isCommand, runCommand, completions as replCompletions, ReplError } from './repl';
import { parseMemoryRef, formatMemoryRef, readMemory, writeMemory, MemoryRefError, physicalOf } from './memory-ref';
import { lapicView, vectorList, lapicValue } from './views/lapic';
import { FILTER_INFO, FilterError } from './filters';
import { isWatchableLapicRegister, MemoryAccess } from './data-watch';
import { linearRip } from '../core/debug/controller';
import { readVirtual } from '../core/debug/walk';
import { disassemble, decodeInsn } from '../core/cpu/decode';
import { LVT_NAMES, LVT_OFFSETS, APIC_TPR, APIC_SVR, APIC_ESR, APIC_LDR, APIC_DFR, APIC_TIMER_ICR, APIC_TIMER_DCR, APIC_ICR_LOW, APIC_ICR_HIGH, x2apicMsrOf } from '../core/apic/registers';
import { loadLineInfo } from './debug-info';
import {
  EVENT_FILTERS, threadIdOf, vcpuOf, HyperstepLaunchArguments, VcpusResponseBody, LapicResponseBody, StepTargetKind, ExportTraceResponseBody,
} from './protocol';
import { writeFileSync } from 'node:fs';

class RequestError extends Error {}

const STEP_TARGETS: { id: number; label: string; kind: StepTargetKind }[] = [
  { id: 1, label: 'Next VM exit', kind: 'exit' },
  { id: 2, label: 'Next IPI sent', kind: 'ipi-send' },
  { id: 3, label: 'Next IPI delivered', kind: 'ipi-deliver' },
  { id: 4, label: 'Next state change', kind: 'state' },
];

const LAPIC_WRITE_OFFSETS: Record<string, number> = {
  TPR: APIC_TPR, SVR: APIC_SVR, ESR: APIC_ESR, LDR: APIC_LDR, DFR: APIC_DFR, TIMER_ICR: APIC_TIMER_ICR, TIMER_DCR: APIC_TIMER_DCR,
  ...Object.fromEntries(LVT_NAMES.map((n, k) => [n, LVT_OFFSETS[k]])),
};

interface FrameRef { vcpu: number; index: number; pc: number; vmm: boolean }

export class HyperstepSession extends LoggingDebugSession {
  private rt: HyperstepRuntime | null = null;
  private vars: VariableStore | null = null;
  private readonly frames = new Handles<FrameRef>();
  private launchArgs: HyperstepLaunchArguments | null = null;
  private configured = false;
  private clientCaps: DebugProtocol.InitializeRequestArguments = { adapterID: 'hyperstep' };
  private nextId = 1;
  /** What the user set, kept to re-arm after a restart. */
  private sourceBps = new Map<string, DebugProtocol.SourceBreakpoint[]>();
  private functionBps: DebugProtocol.FunctionBreakpoint[] = [];
  private instructionBps: DebugProtocol.InstructionBreakpoint[] = [];
  private dataBps: DebugProtocol.DataBreakpoint[] = [];
  private exceptionFilters: { filterId: string; condition?: string }[] | null = null;
  private progressId: string | null = null;
  private runStarted = 0;
  private selectedVcpu = 0;

  constructor(private readonly cwd = process.cwd()) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  // ---- plumbing -----------------------------------------------------------------------------

  /** Runs a request handler; any error becomes an error response naming it. */
  private handle(response: DebugProtocol.Response, f: () => void): void {
    try {
      f();
    } catch (e) {
      const known = e instanceof RequestError || e instanceof LaunchError || e instanceof ExprError || e instanceof ReplError || e instanceof MemoryRefError || e instanceof FilterError;
      const message = known ? (e as Error).message : `internal error: ${(e as Error).message}`;
      this.sendErrorResponse(response, { id: known ? 3000 : 3999, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser: true });
    }
  }

  private runtime(): HyperstepRuntime {
    if (this.rt === null) throw new RequestError('no VM: launch one first');
    return this.rt;
  }

  private vcpuOfThread(threadId: number | undefined): number {
    const rt = this.runtime();
    if (threadId === undefined) return this.selectedVcpu;
    const v = vcpuOf(threadId);
    if (!Number.isInteger(v) || v < 0 || v >= rt.vcpus) throw new RequestError(`unknown thread ${threadId} (threads are 1-${rt.vcpus}, one per vCPU)`);
    return v;
  }

  private requireStopped(what: string): HyperstepRuntime {
    const rt = this.runtime();
    if (rt.isRunning()) throw new RequestError(`${what} needs the VM stopped: pause it first`);
    return rt;
  }

  // ---- initialize, launch ------------------------------------------------------------------------

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.clientCaps = args;
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsEvaluateForHovers: true,
      exceptionBreakpointFilters: EVENT_FILTERS.map((id) => ({
        filter: id, label: FILTER_INFO[id].label, description: FILTER_INFO[id].description, default: FILTER_INFO[id].default,
        supportsCondition: FILTER_INFO[id].conditionDescription !== undefined, conditionDescription: FILTER_INFO[id].conditionDescription,
      })),
      supportsExceptionFilterOptions: true,
      supportsExceptionInfoRequest: true,
      supportsStepInTargetsRequest: true,
      supportsSetVariable: true,
      supportsSetExpression: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportTerminateDebuggee: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsInstructionBreakpoints: true,
      supportsSteppingGranularity: true,
      supportsSingleThreadExecutionRequests: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: [' '],
      supportsValueFormattingOptions: false,
      supportsLoadedSourcesRequest: true,
    };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, raw: DebugProtocol.LaunchRequestArguments): void {
    this.handle(response, () => {
      const args = validateLaunchArguments(raw, this.cwd);
      this.startVm(args);
      this.sendResponse(response);
      this.sendEvent(new InitializedEvent());
    });
  }

  /** Builds the VM and its runtime (launch, restart). Throws LaunchError for what the user can fix. */
  private startVm(args: HyperstepLaunchArguments): void {
    let rt: HyperstepRuntime;
    try {
      const lines = loadLineInfo(args.symbols ?? args.program, args.program);
      rt = new HyperstepRuntime(args, {
        stopped: (s) => this.onStopped(s),
        output: (category, text) => this.sendEvent(new OutputEvent(text, category)),
        exited: (code) => this.onExited(code),
        events: (events, dropped) => this.sendEvent(new Event('hyperstep/events', { events, dropped })),
        status: (s) => this.onStatus(s),
      }, lines);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new LaunchError(`launch argument 'program': cannot read ${args.program} (no such file)`);
      if (err.code) throw new LaunchError(`launch argument 'program': cannot read ${args.program} (${err.code})`);
      throw new LaunchError(`cannot start the VM: ${err.message}`);
    }
    this.rt = rt;
    this.launchArgs = args;
    this.vars = new VariableStore(rt.machine);
    rt.evaluateCondition = (vcpu, expression) => {
      try {
        return truthy(evaluateString(expression, this.env(vcpu)));
      } catch (e) {
        this.sendEvent(new OutputEvent(`breakpoint condition '${expression}' failed on vCPU ${vcpu}: ${(e as Error).message}; stopping\n`, 'console'));
        return true;
      }
    };
    rt.logMessage = (vcpu, template) => template.replace(/\{([^}]+)\}/g, (_, expr: string) => {
      try { return formatValue(evaluateString(expr, this.env(vcpu))); } catch (e) { return `<${(e as Error).message}>`; }
    });
    // Re-arm what the user set (restart).
    if (this.exceptionFilters !== null) rt.filters.set(this.exceptionFilters);
    for (const [path, bps] of this.sourceBps) this.armSource(path, bps);
    this.armFunctions(this.functionBps);
    this.armInstructions(this.instructionBps);
    this.armData(this.dataBps);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.configured = true;
    this.go();
  }

  /** First run after configuration (launch, restart): stop on entry or run. */
  private go(): void {
    const rt = this.rt;
    if (!rt || !this.launchArgs) return;
    if (this.launchArgs.stopOnEntry && !this.launchArgs.noDebug) rt.entryStop();
    else this.resume(() => rt.continue());
  }

  private resume(f: () => void): void {
    this.vars?.reset();
    this.frames.reset();
    this.runStarted = Date.now();
    f();
  }

  // ---- runtime callbacks ------------------------------------------------------------------

  private onStopped(s: StopContext): void {
    this.endProgress();
    this.vars?.reset();
    this.frames.reset();
    this.selectedVcpu = s.vcpu;
    const e: DebugProtocol.StoppedEvent = new StoppedEvent(s.reason, threadIdOf(s.vcpu), s.text);
    e.body.description = s.description;
    e.body.allThreadsStopped = true;
    e.body.preserveFocusHint = false;
    if (s.hitBreakpointIds?.length) e.body.hitBreakpointIds = s.hitBreakpointIds;
    this.sendEvent(e);
  }

  private onExited(code: number): void {
    this.endProgress();
    this.sendEvent(new ExitedEvent(code));
    this.sendEvent(new TerminatedEvent());
  }

  private onStatus(s: import('./protocol').StatusEventBody): void {
    this.sendEvent(new Event('hyperstep/status', s));
    if (!this.clientCaps.supportsProgressReporting || !s.running) return;
    const elapsed = Date.now() - this.runStarted;
    if (this.progressId === null && elapsed > 1000) {
      this.progressId = `run-${this.nextId++}`;
      this.sendEvent(new ProgressStartEvent(this.progressId, 'Hyperstep: guest running', `${s.instructions.toLocaleString('en')} instructions`));
    } else if (this.progressId !== null) {
      this.sendEvent(new ProgressUpdateEvent(this.progressId, `${s.instructions.toLocaleString('en')} instructions, ${(s.timeNs / 1e6).toFixed(3)} ms virtual`));
    }
  }

  private endProgress(): void {
    if (this.progressId !== null) { this.sendEvent(new ProgressEndEvent(this.progressId)); this.progressId = null; }
  }

  private invalidate(): void {
    this.vars?.reset();
    if (this.clientCaps.supportsInvalidatedEvent) this.sendEvent(new InvalidatedEvent(['variables', 'stacks']));
  }

  // ---- breakpoints ------------------------------------------------------------------------

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.handle(response, () => {
      const path = args.source.path;
      if (!path) throw new RequestError('setBreakpoints needs a source path');
      const bps = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
      this.sourceBps.set(path, bps);
      response.body = { breakpoints: this.rt ? this.armSource(path, bps) : bps.map((b) => ({ verified: false, line: b.line, message: 'the VM is not launched yet' })) };
      this.sendResponse(response);
    });
  }

  private armSource(path: string, bps: DebugProtocol.SourceBreakpoint[]): DebugProtocol.Breakpoint[] {
    const rt = this.runtime();
    const lines = rt.program.lines;
    const out: DebugProtocol.Breakpoint[] = [];
    const armed: Omit<CodeBreakpoint, 'kind' | 'hits'>[] = [];
    for (const b of bps) {
      const id = this.nextId++;
      const at = lines?.addressesForLine(path, b.line) ?? null;
      if (at === null || at.addresses.length === 0) {
        out.push({ id, verified: false, line: b.line, message: lines === null ? 'the program has no DWARF line information (build it with -g)' : `no code for line ${b.line} of ${basename(path)} in the program` });
        continue;
      }
      const condErr = checkCondition(b.condition);
      if (condErr) { out.push({ id, verified: false, line: b.line, message: condErr }); continue; }
      for (const a of at.addresses) armed.push({ id, address: a, condition: b.condition, hitCondition: b.hitCondition, logMessage: b.logMessage });
      out.push({ id, verified: true, line: at.line, source: { path, name: basename(path) }, instructionReference: hex(at.addresses[0]) });
    }
    rt.setCodeBreakpoints('source', path, armed);
    return out;
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.handle(response, () => {
      this.functionBps = args.breakpoints;
      response.body = { breakpoints: this.rt ? this.armFunctions(args.breakpoints) : args.breakpoints.map(() => ({ verified: false, message: 'the VM is not launched yet' })) };
      this.sendResponse(response);
    });
  }

  private armFunctions(bps: DebugProtocol.FunctionBreakpoint[]): DebugProtocol.Breakpoint[] {
    const rt = this.runtime();
    const armed: Omit<CodeBreakpoint, 'kind' | 'hits'>[] = [];
    const out = bps.map((b): DebugProtocol.Breakpoint => {
      const id = this.nextId++;
      const s = rt.program.lookup(b.name.trim());
      let address: number | null = s ? s.address : null;
      if (address === null && /^(0x[0-9a-f]+|\d+)$/i.test(b.name.trim())) address = Number(b.name.trim());
      if (address === null) return { id, verified: false, message: `no symbol '${b.name}' in the program` };
      const condErr = checkCondition(b.condition);
      if (condErr) return { id, verified: false, message: condErr };
      armed.push({ id, address, condition: b.condition, hitCondition: b.hitCondition });
      const line = rt.program.lines?.lineAt(address);
      return { id, verified: true, instructionReference: hex(address), ...(line ? { line: line.line, source: { path: line.path, name: basename(line.path) } } : {}) };
    });
    rt.setCodeBreakpoints('function', '', armed);
    return out;
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.handle(response, () => {
      this.instructionBps = args.breakpoints;
      response.body = { breakpoints: this.rt ? this.armInstructions(args.breakpoints) : args.breakpoints.map(() => ({ verified: false })) };
      this.sendResponse(response);
    });
  }

  private armInstructions(bps: DebugProtocol.InstructionBreakpoint[]): DebugProtocol.Breakpoint[] {
    const rt = this.runtime();
    const armed: Omit<CodeBreakpoint, 'kind' | 'hits'>[] = [];
    const out = bps.map((b): DebugProtocol.Breakpoint => {
      const id = this.nextId++;
      let address: number;
      try {
        address = parseMemoryRef(b.instructionReference, rt.machine).address + (b.offset ?? 0);
      } catch (e) {
        return { id, verified: false, message: (e as Error).message };
      }
      const condErr = checkCondition(b.condition);
      if (condErr) return { id, verified: false, message: condErr };
      armed.push({ id, address, condition: b.condition, hitCondition: b.hitCondition });
      return { id, verified: true, instructionReference: hex(address) };
    });
    rt.setCodeBreakpoints('instruction', '', armed);
    return out;
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.handle(response, () => {
      const list = [...(args.filters ?? []).map((f) => ({ filterId: f })), ...(args.filterOptions ?? []).map((o) => ({ filterId: o.filterId, condition: o.condition }))];
      if (this.rt) this.rt.filters.set(list);
      this.exceptionFilters = list;
      response.body = { breakpoints: list.map(() => ({ verified: true })) };
      this.sendResponse(response);
    });
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.handle(response, () => {
      const rt = this.runtime();
      const lapicVcpu = args.variablesReference !== undefined ? this.vars?.lapicScopeVcpu(args.variablesReference) : undefined;
      if (lapicVcpu !== undefined) {
        if (!isWatchableLapicRegister(args.name)) {
          response.body = { dataId: null, description: `${args.name} cannot be watched` };
        } else {
          response.body = { dataId: `lapic:${lapicVcpu}:${args.name}`, description: `vCPU ${lapicVcpu} LAPIC ${args.name} changes`, accessTypes: ['write'], canPersist: true };
        }
      } else {
        // A guest address: "0x1000" (physical), "v1:0x1000" (virtual), or an expression whose value is one.
        let ref;
        let size = args.bytes ?? 4;
        if (args.asAddress) ref = parseMemoryRef(args.name, rt.machine);
        else {
          const vcpu = this.frameVcpu(args.frameId);
          const node = parse(args.name);
          const addr = node.k === 'deref' ? evaluate(node.a, this.env(vcpu)) : evaluate(node, this.env(vcpu));
          if (node.k === 'deref' && node.size) size = node.size;
          if (typeof addr !== 'bigint') throw new RequestError(`'${args.name}' is not an address`);
          ref = { vcpu, address: Number(addr) };
        }
        const pa = physicalOf(rt.machine, ref, 0);
        if (pa === null) { response.body = { dataId: null, description: `${formatMemoryRef(ref)} is not mapped to RAM` }; }
        else response.body = { dataId: `mem:${pa}:${size}`, description: `guest-physical ${hex(pa)} (${size} bytes)${ref.vcpu !== null ? ` = ${formatMemoryRef(ref)}` : ''}`, accessTypes: ['read', 'write', 'readWrite'], canPersist: true };
      }
      this.sendResponse(response);
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.handle(response, () => {
      this.dataBps = args.breakpoints;
      response.body = { breakpoints: this.armData(args.breakpoints) };
      this.sendResponse(response);
    });
  }

  private armData(bps: DebugProtocol.DataBreakpoint[]): DebugProtocol.Breakpoint[] {
    const rt = this.runtime();
    const mem: { id: number; pa: number; size: number; access: MemoryAccess; condition?: string }[] = [];
    const lapic: { id: number; vcpu: number; register: string; condition?: string }[] = [];
    const out = bps.map((b): DebugProtocol.Breakpoint => {
      const id = this.nextId++;
      const condErr = checkCondition(b.condition);
      if (condErr) return { id, verified: false, message: condErr };
      let m = /^mem:(\d+):(\d+)$/.exec(b.dataId);
      if (m) {
        mem.push({ id, pa: Number(m[1]), size: Math.max(1, Math.min(4096, Number(m[2]))), access: (b.accessType ?? 'write') as MemoryAccess, condition: b.condition });
        return { id, verified: true };
      }
      m = /^lapic:(\d+):(\w+)$/.exec(b.dataId);
      if (m && Number(m[1]) < rt.vcpus && isWatchableLapicRegister(m[2])) {
        lapic.push({ id, vcpu: Number(m[1]), register: m[2], condition: b.condition });
        return { id, verified: true };
      }
      return { id, verified: false, message: `unknown data breakpoint '${b.dataId}'` };
    });
    rt.dataWatches.set(mem, lapic);
    rt.dataWatchesChanged();
    return out;
  }

  // ---- threads, stack, variables ----------------------------------------------------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    this.handle(response, () => {
      const rt = this.rt;
      response.body = { threads: rt ? rt.machine.cpus.map((c) => ({ id: threadIdOf(c.index), name: this.threadName(c.index) })) : [] };
      this.sendResponse(response);
    });
  }

  threadName(vcpu: number): string {
    const m = this.runtime().machine;
    const c = m.cpus[vcpu];
    const role = vcpu === 0 ? 'BSP' : 'AP';
    const mode = c.mode === 'long64' ? 'long mode' : c.mode === 'real' ? 'real mode' : c.mode.startsWith('compat') ? 'compatibility mode' : c.mode === 'vm86' ? 'virtual-8086' : 'protected mode';
    const state = c.activity === 'wait-for-sipi' ? 'wait-for-SIPI' : c.activity === 'shutdown' ? 'shutdown'
      : [mode, ...(c.activity === 'hlt' ? ['HLT'] : []), ...(m.vmm.frozen(vcpu) ? ['in rendezvous'] : [])].join(', ');
    return `vCPU ${vcpu} (${role}, ${state})`;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    this.handle(response, () => {
      const rt = this.requireStopped('stackTrace');
      const vcpu = this.vcpuOfThread(args.threadId);
      const c = rt.machine.cpus[vcpu];
      const frames: DebugProtocol.StackFrame[] = [];
      const stop = rt.lastStop;
      if (stop?.vmmFrame && stop.vcpu === vcpu) {
        const pc = linearRip(c);
        // Focusable (not a label): selecting it shows the event's scope; 'subtle' lets clients focus the guest frame first.
        frames.push({ id: this.frames.create({ vcpu, index: -1, pc, vmm: true }), name: stop.vmmFrame, line: 0, column: 0, presentationHint: 'subtle' });
      }
      if (c.activity === 'wait-for-sipi') {
        frames.push({ id: this.frames.create({ vcpu, index: 0, pc: linearRip(c), vmm: true }), name: 'waiting for SIPI (vmm: vCPU not runnable)', line: 0, column: 0, presentationHint: 'label' });
      } else {
        const guest = rt.unwind(c, 64);
        guest.forEach((f, k) => {
          const lookup = k === 0 ? f.pc : f.pc - 1;
          const line = rt.program.lines?.lineAt(lookup) ?? null;
          // A caller's return address may already be past its function (a call as the last instruction): name the call site's function.
          const fn = rt.program.functionAt(lookup);
          const name = fn ? (f.pc === fn.address ? fn.name : `${fn.name}+0x${(f.pc - fn.address).toString(16)}`) : hex(f.pc);
          frames.push({
            id: this.frames.create({ vcpu, index: k, pc: f.pc, vmm: false }),
            name: k === 0 ? `${name}  [${c.mode}]` : name,
            line: line?.line ?? 0, column: line?.column || 1,
            ...(line ? { source: { name: basename(line.path), path: line.path } } : {}),
            instructionPointerReference: formatMemoryRef({ vcpu, address: f.pc }),
          });
        });
      }
      const start = args.startFrame ?? 0;
      const levels = args.levels || frames.length;
      response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
      this.sendResponse(response);
    });
  }

  private frameVcpu(frameId: number | undefined): number {
    if (frameId === undefined) return this.selectedVcpu;
    const f = this.frames.get(frameId);
    if (!f) throw new RequestError(`unknown frame ${frameId}`);
    return f.vcpu;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    this.handle(response, () => {
      const rt = this.requireStopped('scopes');
      const f = this.frames.get(args.frameId);
      if (!f) throw new RequestError(`unknown frame ${args.frameId}`);
      const event = rt.lastStop?.event && rt.lastStop.vcpu === f.vcpu && (f.vmm || f.index === 0) ? rt.lastStop.event : null;
      response.body = { scopes: this.vars!.scopes(f.vcpu, event) };
      this.sendResponse(response);
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.handle(response, () => {
      this.requireStopped('variables');
      const v = this.vars!.variables(args.variablesReference);
      if (v === null) throw new RequestError(`unknown variablesReference ${args.variablesReference} (variables are valid until the VM resumes)`);
      const start = args.start ?? 0;
      response.body = { variables: args.count ? v.slice(start, start + args.count) : v.slice(start) };
      this.sendResponse(response);
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    this.handle(response, () => {
      this.requireStopped('setVariable');
      const w = this.vars!.writableIn(args.variablesReference, args.name);
      if (!w) throw new RequestError(`${args.name} cannot be set here (registers and writable LAPIC registers can)`);
      const value = this.evalNumber(args.value, w.vcpu);
      response.body = { value: this.writeNamed(w.kind, w.vcpu, w.name, value) };
      this.sendResponse(response);
      this.invalidate();
    });
  }

  protected override setExpressionRequest(response: DebugProtocol.SetExpressionResponse, args: DebugProtocol.SetExpressionArguments): void {
    this.handle(response, () => {
      this.requireStopped('setExpression');
      const vcpu = this.frameVcpu(args.frameId);
      const value = this.evalNumber(args.value, vcpu);
      const e = args.expression.trim();
      const lapic = /^lapic\.(\w+)$/i.exec(e);
      let shown: string;
      if (lapic) shown = this.writeNamed('lapic', vcpu, lapic[1].toUpperCase(), value);
      else if (isRegisterName(e) || readRegister(this.runtime().machine.cpus[vcpu], e) !== undefined) shown = this.writeNamed('register', vcpu, e, value);
      else {
        const node = parse(e);
        if (node.k !== 'deref') throw new RequestError(`'${e}' is not assignable (registers, lapic.REG, *(u32*)ADDR and [ADDR] are)`);
        const addr = evaluate(node.a, this.env(vcpu));
        if (typeof addr !== 'bigint') throw new RequestError('the address is not a number');
        const size = node.size || (this.runtime().machine.cpus[vcpu].mode64 ? 8 : 4);
        const bytes = new Uint8Array(size);
        for (let k = 0; k < size; k++) bytes[k] = Number((value >> BigInt(8 * k)) & 0xffn);
        const n = writeMemory(this.runtime().machine, { vcpu, address: Number(addr) }, 0, bytes);
        if (n < size) throw new RequestError(`${hex(addr)} is not mapped (wrote ${n} of ${size} bytes)`);
        shown = hex(value & ((1n << BigInt(8 * size)) - 1n));
      }
      response.body = { value: shown };
      this.sendResponse(response);
      this.invalidate();
    });
  }

  /** Writes a register or a LAPIC register (through the LAPIC's own write path, side effects included). */
  private writeNamed(kind: 'register' | 'lapic', vcpu: number, name: string, value: bigint): string {
    const m = this.runtime().machine;
    if (kind === 'register') {
      writeRegister(m, vcpu, name, value);
      return hex(readRegister(m.cpus[vcpu], name)!);
    }
    const l = m.lapics[vcpu];
    const lo = Number(value & 0xffffffffn) >>> 0, hi = Number((value >> 32n) & 0xffffffffn) >>> 0;
    if (l.mode() === 'disabled') throw new RequestError(`vCPU ${vcpu}'s LAPIC is disabled: its registers cannot be written`);
    if (name === 'ICR') {
      if (l.mode() === 'x2apic') { const r = l.writeMsr(0x830, lo, hi); if (r !== 'ok') throw new RequestError('the ICR write raised #GP (reserved bits)'); }
      else { if (hi) l.writeMmio(APIC_ICR_HIGH, 4, hi); l.writeMmio(APIC_ICR_LOW, 4, lo); }
    } else {
      const off = LAPIC_WRITE_OFFSETS[name];
      if (off === undefined) throw new RequestError(`LAPIC register ${name} is read-only`);
      if (l.mode() === 'x2apic') {
        if (name === 'LDR' || name === 'DFR') throw new RequestError(`${name} is read-only in x2APIC mode`);
        const r = l.writeMsr(x2apicMsrOf(off), lo, 0);
        if (r !== 'ok') throw new RequestError(`writing ${hex(lo)} to ${name} raises #GP in x2APIC mode (reserved bits)`);
      } else l.writeMmio(off, 4, lo);
    }
    const view = lapicView(l, m.time.nowNs()).registers.find((r) => r.name === name);
    return view ? `${view.value}  ${view.decoded}` : hex(lo);
  }

  // ---- evaluate ------------------------------------------------------------------------------

  /** Names an expression can use on a vCPU: registers, lapic.REG, symbols; memory through its page tables. */
  private env(vcpu: number): Env {
    const rt = this.runtime();
    const c = rt.machine.cpus[vcpu];
    return {
      lookup: (name) => {
        const r = readRegister(c, name);
        if (r !== undefined) return r;
        const lap = /^lapic\.(\w+)$/i.exec(name);
        if (lap) return lapicValue(rt.machine.lapics[vcpu], lap[1], rt.machine.time.nowNs());
        if (name === 'vcpu') return BigInt(vcpu);
        const s = rt.program.lookup(name);
        if (s) return addr64(s.address);
        return undefined;
      },
      read: (address, size) => {
        const b = readVirtual(c, Number(address), size);
        if (b === null) throw new ExprError(`cannot read ${size} bytes at ${hex(address)}: not mapped in vCPU ${vcpu}'s page tables`);
        let v = 0n;
        for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
        return v;
      },
      pointerSize: () => (c.mode64 ? 8 : 4),
    };
  }

  private evalNumber(src: string, vcpu: number): bigint {
    const v = evaluateString(src, this.env(vcpu));
    if (typeof v !== 'bigint') throw new RequestError(`'${src}' is not a number`);
    return v;
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.handle(response, () => {
      const rt = this.runtime();
      const vcpu = args.frameId !== undefined ? this.frameVcpu(args.frameId) : this.selectedVcpu;
      if (args.context === 'repl' && isCommand(args.expression)) {
        if (rt.isRunning() && !/^\s*(help|trace|exits)/.test(args.expression)) throw new RequestError('pause the VM first');
        const text = runCommand(args.expression, { machine: rt.machine, vcpu, recent: (n) => rt.recentEvents(n), describe: (a) => rt.program.describe(a) });
        response.body = { result: text, variablesReference: 0 };
        this.sendResponse(response);
        if (/^\s*ipi\b/.test(args.expression)) this.invalidate();
        return;
      }
      this.requireStopped('evaluate');
      const v = evaluateString(args.expression, this.env(vcpu));
      response.body = { result: formatValue(v), variablesReference: 0, type: typeof v === 'bigint' ? 'u64' : 'string' };
      if (typeof v === 'bigint' && v < 1n << 48n && readVirtual(rt.machine.cpus[vcpu], Number(v), 1) !== null) {
        response.body.memoryReference = formatMemoryRef({ vcpu, address: Number(v) });
      }
      this.sendResponse(response);
    });
  }

  protected override completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): void {
    this.handle(response, () => {
      const upto = args.text.slice(0, args.column - 1);
      const word = /[\w.$]*$/.exec(upto)![0];
      const items = [...replCompletions(word), ...(this.rt ? this.rt.program.complete(word, 50) : [])];
      response.body = { targets: items.map((label) => ({ label, start: upto.length - word.length, length: word.length })) };
      this.sendResponse(response);
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): void {
    this.handle(response, () => {
      const rt = this.runtime();
      const s = rt.lastStop;
      if (!s || s.vcpu !== this.vcpuOfThread(args.threadId)) throw new RequestError('this thread did not stop on an event');
      response.body = {
        exceptionId: s.event?.type ?? s.final?.reason ?? s.reason,
        description: s.description,
        breakMode: 'always',
        details: { message: s.text ?? s.description, typeName: s.vmmFrame ?? s.reason, ...(s.event ? { stackTrace: JSON.stringify(s.event.data, null, 1) } : {}) },
      };
      this.sendResponse(response);
    });
  }

  // ---- execution ---------------------------------------------------------------------------------

  protected override continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): void {
    this.handle(response, () => {
      const rt = this.runtime();
      this.vcpuOfThread(args.threadId);
      response.body = { allThreadsContinued: true };
      this.sendResponse(response);
      this.resume(() => rt.continue());
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.stepRequest(response, args.threadId, 'over', args.granularity, args.singleThread);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    if (args.targetId !== undefined) {
      this.handle(response, () => {
        const t = STEP_TARGETS.find((x) => x.id === args.targetId);
        if (!t) throw new RequestError(`unknown step-in target ${args.targetId}`);
        const vcpu = this.vcpuOfThread(args.threadId);
        const rt = this.requireStopped('stepIn');
        this.sendResponse(response);
        this.resume(() => rt.stepToEvent(vcpu, t.kind));
      });
      return;
    }
    this.stepRequest(response, args.threadId, 'in', args.granularity, args.singleThread);
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.stepRequest(response, args.threadId, 'out', args.granularity, args.singleThread);
  }

  private stepRequest(response: DebugProtocol.Response, threadId: number, kind: 'in' | 'over' | 'out', granularity: DebugProtocol.SteppingGranularity | undefined, singleThread: boolean | undefined): void {
    this.handle(response, () => {
      const vcpu = this.vcpuOfThread(threadId);
      const rt = this.requireStopped('stepping');
      const c = rt.machine.cpus[vcpu];
      if (singleThread && c.activity !== 'active') throw new RequestError(`vCPU ${vcpu} is ${c.activity}: it cannot step alone (step all vCPUs instead)`);
      this.sendResponse(response);
      this.selectedVcpu = vcpu;
      const g = granularity === 'instruction' || rt.program.lines === null ? 'instruction' : 'line';
      this.resume(() => rt.step(vcpu, kind, g, singleThread === true));
    });
  }

  protected override stepInTargetsRequest(response: DebugProtocol.StepInTargetsResponse, args: DebugProtocol.StepInTargetsArguments): void {
    this.handle(response, () => {
      this.frameVcpu(args.frameId);
      response.body = { targets: STEP_TARGETS.map((t) => ({ id: t.id, label: t.label })) };
      this.sendResponse(response);
    });
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse, args: DebugProtocol.PauseArguments): void {
    this.handle(response, () => {
      const rt = this.runtime();
      this.vcpuOfThread(args.threadId);
      this.sendResponse(response);
      rt.pause();
    });
  }

  protected override restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): void {
    this.handle(response, () => {
      const raw = (args?.arguments as DebugProtocol.LaunchRequestArguments | undefined) ?? this.launchArgs;
      const next = validateLaunchArguments(raw, this.cwd);
      this.rt?.dispose();
      this.rt = null;
      this.startVm(next);
      this.sendResponse(response);
      this.invalidate();
      if (this.configured) this.go();
    });
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.rt?.dispose();
    this.rt = null;
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.rt?.dispose();
    this.rt = null;
    this.sendResponse(response);
    // On stdio the adapter process ends with its client (a server keeps listening).
    this.shutdown();
  }

  // ---- memory and disassembly -----------------------------------------------------------------

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    this.handle(response, () => {
      const rt = this.runtime();
      const ref = parseMemoryRef(args.memoryReference, rt.machine);
      if (!(args.count >= 0) || args.count > 16 << 20) throw new RequestError(`readMemory count must be 0-16 MiB, not ${args.count}`);
      const { data, unreadable } = readMemory(rt.machine, ref, args.offset ?? 0, args.count);
      response.body = { address: formatMemoryRef({ vcpu: ref.vcpu, address: ref.address + (args.offset ?? 0) }), data: Buffer.from(data).toString('base64'), ...(unreadable ? { unreadableBytes: unreadable } : {}) };
      this.sendResponse(response);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    this.handle(response, () => {
      const rt = this.requireStopped('writeMemory');
      const ref = parseMemoryRef(args.memoryReference, rt.machine);
      const data = Buffer.from(args.data, 'base64');
      const n = writeMemory(rt.machine, ref, args.offset ?? 0, data);
      if (n < data.length && !args.allowPartial) throw new RequestError(`only ${n} of ${data.length} bytes are writable at ${formatMemoryRef(ref)}`);
      response.body = { bytesWritten: n };
      this.sendResponse(response);
      this.sendEvent(new MemoryEvent(args.memoryReference, args.offset ?? 0, n));
      this.invalidate();
    });
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    this.handle(response, () => {
      const rt = this.runtime();
      const ref = parseMemoryRef(args.memoryReference, rt.machine);
      if (!(args.instructionCount >= 0) || args.instructionCount > 10000) throw new RequestError(`instructionCount must be 0-10000, not ${args.instructionCount}`);
      const vcpu = ref.vcpu ?? this.selectedVcpu;
      const bits = rt.machine.cpus[vcpu].bits;
      let start = ref.address + (args.offset ?? 0);
      const want = args.instructionCount;
      let skip = args.instructionOffset ?? 0;
      if (skip < 0) {
        // Backwards: decode forward from a point far enough before (a function start when known) and keep the tail.
        const fn = rt.program.functionAt(start);
        const from = fn && start - fn.address <= -skip * 15 ? fn.address : start + skip * 15;
        const before: number[] = [];
        for (let a = from; a < start;) {
          before.push(a);
          const b = readMemory(rt.machine, { vcpu: ref.vcpu, address: a }, 0, 15);
          const i = b.data.length ? decodeInsn(b.data, bits) : null;
          a += i ? i.len : 1;
        }
        const back = Math.min(before.length, -skip);
        start = back > 0 ? before[before.length - back] : start;
        skip += back;
      }
      const out: DebugProtocol.DisassembledInstruction[] = [];
      for (let k = 0; k < -skip && out.length < want; k++) out.push({ address: hex(start - (-skip - k)), instruction: '(unknown)', presentationHint: 'invalid' });
      let a = start;
      let lastLine = -1;
      for (let n = Math.max(0, skip); n > 0; n--) {
        const b = readMemory(rt.machine, { vcpu: ref.vcpu, address: a }, 0, 15);
        const i = b.data.length ? decodeInsn(b.data, bits) : null;
        a += i ? i.len : 1;
      }
      while (out.length < want) {
        const b = readMemory(rt.machine, { vcpu: ref.vcpu, address: a }, 0, 15);
        if (b.data.length === 0) { out.push({ address: hex(a), instruction: '(not mapped)', presentationHint: 'invalid' }); a += 1; continue; }
        const d = disassemble(b.data, bits, a);
        const bytes = Array.from(b.data.subarray(0, d.len), (x) => x.toString(16).padStart(2, '0')).join(' ');
        const sym = rt.program.functionAt(a);
        const line = rt.program.lines?.lineAt(a) ?? null;
        const text = d.text.replace(/\b0x([0-9a-f]{5,16})\b/g, (s, h: string) => { const t = rt.program.describe(Number.parseInt(h, 16)); return t ? `${s} <${t}>` : s; });
        out.push({
          address: hex(a), instructionBytes: bytes, instruction: text,
          ...(sym && sym.address === a ? { symbol: sym.name } : {}),
          ...(line && line.line !== lastLine ? { location: { path: line.path, name: basename(line.path) }, line: line.line } : {}),
        });
        if (line) lastLine = line.line;
        a += d.len;
      }
      response.body = { instructions: out };
      this.sendResponse(response);
    });
  }

  protected override loadedSourcesRequest(response: DebugProtocol.LoadedSourcesResponse): void {
    this.handle(response, () => {
      const files = this.rt?.program.lines?.sourceFiles() ?? [];
      response.body = { sources: files.map((p) => ({ path: p, name: basename(p) })) };
      this.sendResponse(response);
    });
  }

  // ---- custom requests -----------------------------------------------------------------------

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    this.handle(response, () => {
      const rt = this.runtime();
      const a = (args ?? {}) as Record<string, unknown>;
      switch (command) {
        case 'hyperstep/vcpus': {
          const body: VcpusResponseBody = { vcpus: rt.machine.cpus.map((c) => this.vcpuSummary(c.index)), status: rt.status() };
          response.body = body;
          break;
        }
        case 'hyperstep/lapic': {
          const v = Number(a.vcpu);
          if (!Number.isInteger(v) || v < 0 || v >= rt.vcpus) throw new RequestError(`hyperstep/lapic: no vCPU ${String(a.vcpu)}`);
          const body: LapicResponseBody = lapicView(rt.machine.lapics[v], rt.machine.time.nowNs());
          response.body = body;
          break;
        }
        case 'hyperstep/stepToEvent': {
          const kind = a.kind as StepTargetKind;
          if (!STEP_TARGETS.some((t) => t.kind === kind)) throw new RequestError(`hyperstep/stepToEvent: kind must be one of ${STEP_TARGETS.map((t) => t.kind).join(', ')}`);
          const vcpu = this.vcpuOfThread(Number(a.threadId));
          this.requireStopped('stepToEvent');
          this.sendResponse(response);
          this.resume(() => rt.stepToEvent(vcpu, kind));
          return;
        }
        case 'hyperstep/exportTrace': {
          if (typeof a.path !== 'string' || a.path === '') throw new RequestError('hyperstep/exportTrace needs a path');
          const ev = rt.recentEvents();
          writeFileSync(a.path, ev.map((e) => JSON.stringify(e)).join('\n') + (ev.length ? '\n' : ''));
          const body: ExportTraceResponseBody = { path: a.path, events: ev.length };
          response.body = body;
          break;
        }
        default:
          throw new RequestError(`unknown request '${command}'`);
      }
      this.sendResponse(response);
    });
  }

  private vcpuSummary(vcpu: number): import('./protocol').VcpuSummary {
    const rt = this.runtime();
    const m = rt.machine;
    const c = m.cpus[vcpu], l = m.lapics[vcpu];
    const e = m.vmm.lastExitOf(vcpu);
    const pc = linearRip(c);
    const sym = rt.program.describe(pc);
    return {
      vcpu, threadId: threadIdOf(vcpu), name: this.threadName(vcpu), bsp: vcpu === 0, activity: c.activity, runState: m.vmm.runState(vcpu),
      mode: c.mode, rip: pc, ...(sym ? { symbol: sym } : {}), apicId: l.apicId, apicMode: l.mode(), tpr: l.tpr, ppr: l.ppr(),
      irr: vectorList(l.irr), isr: vectorList(l.isr),
      ...(e ? { lastExit: { reason: e.reason, detail: Object.entries(e.qualification).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'number' ? hex(v >>> 0) : String(v)}`).join(' ') } } : {}),
    };
  }
}

function formatValue(v: Value): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return v < 10n ? v.toString() : `${hex(v)} (${v.toString()})`;
}

/** A breakpoint condition that does not even parse is refused when set, not at the first hit. */
function checkCondition(c: string | undefined): string | null {
  if (c === undefined || c.trim() === '') return null;
  try { parse(c); return null; } catch (e) { return `condition: ${(e as Error).message}`; }
}
