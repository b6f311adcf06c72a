// What Hyperstep's debug adapter adds to the Debug Adapter Protocol: launch arguments,
// custom requests and custom events. Shared by the adapter (debug-adapter/) and the VS Code
// extension (extension/), which imports only this file and types from the adapter.
// Types only: no runtime dependency on the core.

/** The `type` of Hyperstep debug configurations (launch.json). */
export const DEBUG_TYPE = 'hyperstep';

/** DAP thread ids are vCPU index + 1 (some clients treat thread id 0 as "none"). */
export function threadIdOf(vcpu: number): number {
  return vcpu + 1;
}
export function vcpuOf(threadId: number): number {
  return threadId - 1;
}

export type ImageFormatArg = 'auto' | 'multiboot' | 'elf' | 'flat';
export type CapabilityArg = 'ipi-exit' | 'hlt-exit' | 'pause-exit';

/** `launch` request arguments: the launch.json options. */
export interface HyperstepLaunchArguments {
  /** Guest image path (absolute, or relative to `cwd`). */
  program: string;
  format?: ImageFormatArg;
  vcpus?: number;
  memoryMiB?: number;
  seed?: number;
  quantum?: number;
  x2apic?: boolean;
  capabilities?: CapabilityArg[];
  quirks?: string[];
  cmdline?: string;
  stopOnEntry?: boolean;
  /** ELF with symbols/DWARF for a flat image (an ELF program carries its own). */
  symbols?: string;
  /** Write every core event as JSON lines to this file. */
  trace?: string;
  /** Load address and entry mode of a flat image. */
  flatAddress?: number;
  flatMode?: 'real16' | 'protected32' | 'long64';
  /** Interpret every instruction (the block JIT is also turned off while instruction breakpoints or steps need it). */
  jit?: boolean;
  /** Directory that relative paths are resolved against (defaults to the adapter's cwd). */
  cwd?: string;
  /** DAP's own: run without debugging (no breakpoints). */
  noDebug?: boolean;
}

/** Exception breakpoint filter ids (the event breakpoints). */
export const EVENT_FILTERS = [
  'vmexit', 'ipi-send', 'ipi-deliver', 'init', 'sipi', 'eoi', 'rendezvous', 'tlb-flush',
  'triple-fault', 'invariant', 'unsupported-instruction',
] as const;
export type EventFilterId = typeof EVENT_FILTERS[number];

// ---- custom requests (session.customRequest(name, args)) ------------------------------------

/** `hyperstep/vcpus`: a summary of every vCPU, for the extension's vCPUs view. */
export interface VcpusRequestArguments {}
export interface VcpuSummary {
  vcpu: number;
  threadId: number;
  /** As the thread is named: "vCPU 1 (AP, wait-for-SIPI)". */
  name: string;
  bsp: boolean;
  /** Architectural activity state: active, hlt, wait-for-sipi, shutdown. */
  activity: string;
  /** bhyve run state: IDLE, FROZEN, RUNNING, SLEEPING. */
  runState: string;
  /** CPU mode: real, protected32, long64, ... */
  mode: string;
  rip: number;
  /** Symbol + offset of RIP, when known ("ap_main+0x12"). */
  symbol?: string;
  apicId: number;
  apicMode: 'disabled' | 'xapic' | 'x2apic';
  tpr: number;
  ppr: number;
  /** Vectors pending in IRR / in service in ISR, ascending. */
  irr: number[];
  isr: number[];
  lastExit?: { reason: string; detail: string };
}
export interface VcpusResponseBody {
  vcpus: VcpuSummary[];
  status: StatusEventBody;
}

/** `hyperstep/lapic`: one vCPU's local APIC, every register decoded. */
export interface LapicRequestArguments { vcpu: number }
export interface LapicRegisterView {
  /** SDM name: ID, VER, TPR, ..., ICR, LVT_TIMER, ... */
  name: string;
  /** xAPIC MMIO offset (x2APIC MSR = 0x800 + offset >> 4). */
  offset: number;
  /** Raw value as hex ("0x000000ff"; ICR is 64 bits). */
  value: string;
  /** Fields decoded ("vector=0x40 mode=fixed dest=1 ..."), or vector lists for ISR/TMR/IRR. */
  decoded: string;
}
export interface LapicResponseBody {
  vcpu: number;
  mode: 'disabled' | 'xapic' | 'x2apic';
  registers: LapicRegisterView[];
  /** The same as a readable text block (what `lapic N` prints in the Debug Console). */
  text: string;
}

/** `hyperstep/stepToEvent`: run `threadId`'s vCPU (all-stop) until its next event of a kind. */
export type StepTargetKind = 'exit' | 'ipi-send' | 'ipi-deliver' | 'state';
export interface StepToEventArguments { threadId: number; kind: StepTargetKind }

/** `hyperstep/exportTrace`: write the recorded events as JSON lines. */
export interface ExportTraceArguments { path: string }
export interface ExportTraceResponseBody { path: string; events: number }

// ---- custom events ----------------------------------------------------------------------------

/** One core event as the adapter forwards it (core/trace/events.ts HsEvent, JSON-safe). */
export interface TimelineEvent {
  seq: number;
  /** Virtual time, ns. */
  time: number;
  /** vCPU, or -1 for VM-wide events. */
  vcpu: number;
  type: string;
  data: Record<string, unknown>;
}

/**
 * `hyperstep/events`: batches of core events for the IPI timeline (ipi.*, exit, eoi,
 * rendezvous.*, vcpu.state, invariant, tlb.flush, apic.reject, stop). Rate-limited: at most a
 * few batches per second while running, and one batch before every `stopped`.
 */
export interface EventsEventBody { events: TimelineEvent[]; dropped: number }

/** `hyperstep/status`: virtual time, instructions retired, seed; sent with every stop and periodically while running. */
export interface StatusEventBody {
  timeNs: number;
  instructions: number;
  seed: number;
  vcpus: number;
  running: boolean;
}
