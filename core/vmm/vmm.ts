// The hypervisor layer, modelled on bhyve's vmm.c/vlapic.c: exits counted per vCPU and
// reason, the VM-level interrupt delivery path shared by IPIs and the IOAPIC, INIT and
// SIPI handling (in "kernel", or handed to "userspace" as VM_EXITCODE_IPI with the
// ipi-exit capability), and the wake-ups of halted vCPUs. Per-VM state lives here;
// per-vCPU state stays in Cpu and LocalApic.
import type { Cpu } from '../cpu/cpu';
import type { LocalApic } from '../apic/lapic';
import type { IoApic } from '../apic/ioapic';
import type { ApicBus, Ipi, IoApicMessage, IoApicSink } from '../apic/types';
import { arbitrateLowestPriority, isIpiTarget, matchesDestination, unicastPhysicalId } from '../apic/destination';
import { CS, IF } from '../cpu/regs';
import type { EventStream, StopReason } from '../trace/events';
import { Capability, EXIT_INDEX, EXIT_REASONS, ExitQualification, ExitReason, NO_QUALIFICATION, Quirk, RunState } from './types';
import { highestVector } from '../apic/lapic';

const HLT_INDEX = EXIT_INDEX.HLT, PAUSE_INDEX = EXIT_INDEX.PAUSE, N_REASONS = EXIT_REASONS.length;

/** Exit reason -> index in EXIT_REASONS: comparisons of interned strings, cheaper than a hash lookup. */
function exitIndex(reason: ExitReason): number {
  switch (reason) {
    case 'INOUT': return EXIT_INDEX.INOUT;
    case 'MMIO': return EXIT_INDEX.MMIO;
    case 'RDMSR': return EXIT_INDEX.RDMSR;
    case 'WRMSR': return EXIT_INDEX.WRMSR;
    case 'CPUID': return EXIT_INDEX.CPUID;
    case 'HLT': return HLT_INDEX;
    case 'PAUSE': return PAUSE_INDEX;
    default: return EXIT_INDEX[reason];
  }
}
import type { PhysicalMemory } from '../memory/physical';
import { flushTlb } from '../cpu/mmu';

/** bhyve's vm_smp_rendezvous: each vCPU of `requested` runs `func` at its next exit, then waits for the others. */
export interface Rendezvous {
  name: string;
  initiator: number;
  requested: Uint8Array;
  done: Uint8Array;
  remaining: number;
  func: (vcpu: number) => void;
  /** The initiator (a vCPU) waits until every requested vCPU has done its part. */
  initiatorWaits: boolean;
  /** spurious-rendezvous: vCPUs outside the set that already took their spurious exit. */
  spurious: Uint8Array;
}

export interface VmmOptions {
  capabilities: ReadonlySet<Capability>;
  quirks: ReadonlySet<Quirk>;
}

export interface VmmHost {
  readonly events: EventStream;
  requestStop(vcpu: number, reason: StopReason, message: string): void;
}

export class Vmm implements ApicBus, IoApicSink {
  /** Exit counts: [vcpu * EXIT_REASONS.length + reason]. */
  readonly exitCounts: Uint32Array;
  /**
   * The last exit of each vCPU (for the debugger: lastExitOf): its index in EXIT_REASONS (-1
   * before the first) and its qualification. Kept in two arrays written only when they change:
   * a record rewritten in place cost more than the rest of an exit (every LAPIC access is one).
   */
  private readonly lastExitIndex: Int16Array;
  private readonly lastQualification: ExitQualification[];
  /** APIC ID -> LocalApic, for physical unicast in O(1). */
  private readonly byApicId = new Map<number, LocalApic>();
  /** byApicId for the IDs below 256 (every xAPIC ID), as an array: looked up at every IPI. */
  private readonly byXapicId: (LocalApic | undefined)[] = new Array(256).fill(undefined);
  ioapic: IoApic | null = null;
  /** The rendezvous in progress, and those waiting to start (one at a time, as bhyve). */
  rendezvous: Rendezvous | null = null;
  private readonly rendezvousQueue: Omit<Rendezvous, 'done' | 'remaining' | 'spurious'>[] = [];
  /** deferred-irr-ack: the vector each vCPU was last injected and still has in IRR (-1 none). */
  readonly deferredIrr: Int16Array;
  /** async-init-suspend: an INIT accepted but not yet acted on by its target. */
  readonly pendingInit: Uint8Array;
  /** The vCPU executing guest code right now (-1 between slices), for the run state. */
  running = -1;
  /** EPT generation: bumped by every host-side invalidation of guest-physical mappings. */
  eptGeneration = 0;
  /** ept-invalidate-no-wait: vCPUs that may still use the old mapping of a remapped page, until their next exit. */
  private readonly staleEpt = new Map<number, { old: Uint8Array; vcpus: Set<number> }>();
  phys: PhysicalMemory | null = null;
  /** VM_CAP_HALT_EXIT / VM_CAP_PAUSE_EXIT, looked up once (checked at every exit). */
  private readonly hltExit: boolean;
  private readonly pauseExit: boolean;
  /** The deferred-irr-ack quirk, looked up once (checked at every injection). */
  private readonly deferredIrrAck: boolean;

  /** The LAPICs, one per vCPU (attach() fills it: they need this Vmm as their bus first). */
  readonly lapics: LocalApic[] = [];

  constructor(
    readonly cpus: readonly Cpu[],
    private readonly host: VmmHost,
    readonly options: VmmOptions,
  ) {
    this.exitCounts = new Uint32Array(cpus.length * EXIT_REASONS.length);
    this.lastExitIndex = new Int16Array(cpus.length).fill(-1);
    this.lastQualification = cpus.map(() => NO_QUALIFICATION);
    this.deferredIrr = new Int16Array(cpus.length).fill(-1);
    this.pendingInit = new Uint8Array(cpus.length);
    this.hltExit = options.capabilities.has('hlt-exit');
    this.pauseExit = options.capabilities.has('pause-exit');
    this.deferredIrrAck = options.quirks.has('deferred-irr-ack');
  }

  attach(lapics: readonly LocalApic[]): void {
    this.lapics.push(...lapics);
    for (const l of lapics) this.byApicId.set(l.apicId >>> 0, l);
    for (let id = 0; id < this.byXapicId.length; id++) this.byXapicId[id] = this.byApicId.get(id);
  }

  // ---- exits ---------------------------------------------------------------------------

  /** Records an exit: counted, remembered, and an event. */
  exit(vcpu: number, reason: ExitReason, qualification: ExitQualification): void {
    this.exitAt(vcpu, exitIndex(reason), qualification);
  }

  /** exit() with the reason given by its index in EXIT_REASONS (frequent callers look it up once). */
  exitAt(vcpu: number, index: number, qualification: ExitQualification): void {
    // HLT and PAUSE leave the guest only with their capability (VM_CAP_HALT_EXIT, VM_CAP_PAUSE_EXIT).
    if (index === HLT_INDEX && !this.hltExit) return;
    if (index === PAUSE_INDEX && !this.pauseExit) return;
    this.countExit(vcpu, index, qualification);
    if (this.host.events.active) this.host.events.emit(vcpu, 'exit', { reason: EXIT_REASONS[index], ...qualification });
  }

  /**
   * What every exit does but report itself (exitAt, and the xAPIC page's accesses when no one
   * listens to events): what waits for an exit, the count, the last exit. Small, so that the
   * callers on the hot path take it inline.
   */
  countExit(vcpu: number, index: number, qualification: ExitQualification): void {
    if (this.staleEpt.size !== 0 || this.deferredIrr[vcpu] >= 0) this.exitWork(vcpu);
    this.exitCounts[vcpu * N_REASONS + index]++;
    this.lastExitIndex[vcpu] = index;
    if (this.lastQualification[vcpu] !== qualification) this.lastQualification[vcpu] = qualification;
  }

  /** What waits for the vCPU's next exit: stale EPT mappings it may drop, an IRR bit the deferred-irr-ack quirk clears. */
  private exitWork(vcpu: number): void {
    if (this.staleEpt.size !== 0) this.exitedForEpt(vcpu);
    const deferred = this.deferredIrr[vcpu];
    if (deferred >= 0) {
      // deferred-irr-ack: the injected vector leaves IRR only now, at the next exit.
      const l = this.lapics[vcpu];
      l.irr[deferred >>> 5] &= ~(1 << (deferred & 31));
      this.deferredIrr[vcpu] = -1;
    }
  }

  /** The vCPU's last exit, or null before its first. */
  lastExitOf(vcpu: number): { reason: ExitReason; qualification: ExitQualification } | null {
    const index = this.lastExitIndex[vcpu];
    return index < 0 ? null : { reason: EXIT_REASONS[index], qualification: this.lastQualification[vcpu] };
  }

  /** Whether exits should carry their full qualification (someone listens to events). */
  detailed(): boolean {
    return this.host.events.active;
  }

  exitCount(vcpu: number, reason: ExitReason): number {
    return this.exitCounts[vcpu * EXIT_REASONS.length + exitIndex(reason)];
  }

  hasCapability(c: Capability): boolean {
    return this.options.capabilities.has(c);
  }

  hasQuirk(q: Quirk): boolean {
    return this.options.quirks.has(q);
  }

  // ---- ApicBus: IPIs ---------------------------------------------------------------------

  /** The one VM-level IPI delivery function (bhyve: vlapic_icrlo_write_handler). */
  sendIpi(src: LocalApic, ipi: Ipi): void {
    const targets = this.resolve(src, ipi);
    if (ipi.mode === 'init' || ipi.mode === 'startup') {
      if (this.hasCapability('ipi-exit')) {
        // Handed to userspace as VM_EXITCODE_IPI (FreeBSD D35623); userspace then does what the
        // in-kernel path would have done.
        this.exit(src.vcpuIndex, 'IPI', { ipiMode: ipi.mode, vector: ipi.vector, destinations: targets.map((t) => t.vcpuIndex) });
      }
      for (const t of targets) {
        if (ipi.mode === 'init') this.init(t, t === src, `vCPU ${src.vcpuIndex}`, src.vcpuIndex);
        else this.sipi(t, ipi.vector);
      }
      return;
    }
    switch (ipi.mode) {
      case 'fixed':
        for (const t of targets) this.accept(t, ipi.vector, ipi.trigger, 'ipi');
        return;
      case 'lowest': {
        const t = arbitrateLowestPriority(targets);
        if (t) this.accept(t, ipi.vector, ipi.trigger, 'ipi');
        return;
      }
      case 'nmi':
        for (const t of targets) t.acceptNmi();
        return;
      case 'smi':
        for (const t of targets) t.acceptSmi();
        return;
      case 'init-deassert':
        return; // no effect on processors since the Pentium 4 (SDM table "Valid Combinations")
    }
  }

  /** sendIpi of a fixed IPI to one physical destination (LocalApic.sendIcr's common case), without the message. */
  sendFixedUnicast(src: LocalApic, dest: number, vector: number, x2apic: boolean): void {
    const id = unicastPhysicalId(dest, 'physical', x2apic);
    const t = id >= 0 ? this.lapicById(id) : undefined;
    if (t !== undefined && t.mode() !== 'disabled' && matchesDestination(t, dest, 'physical', x2apic)) this.accept(t, vector, 'edge', 'ipi');
  }

  /** The LAPIC whose APIC ID is `id`, if any. */
  private lapicById(id: number): LocalApic | undefined {
    return id < this.byXapicId.length ? this.byXapicId[id] : this.byApicId.get(id);
  }

  /** Offers a fixed interrupt to a LAPIC and checks the invariants hardware guarantees. */
  private accept(t: LocalApic, vector: number, trigger: 'edge' | 'level', source: 'ipi' | 'ioapic'): void {
    const r = t.acceptInterrupt(vector, trigger, source);
    if (r === 'collapsed' && this.deferredIrr[t.vcpuIndex] === vector) {
      this.invariant(t.vcpuIndex, 'ipi-lost', `interrupt vector 0x${vector.toString(16)} to vCPU ${t.vcpuIndex} collapsed into the IRR bit left set when the same vector was injected (deferred-irr-ack): hardware would have latched it and delivered it after the EOI; it is lost`);
    } else if (r === 'accepted' && !t.softwareEnabled()) {
      this.invariant(t.vcpuIndex, 'irr-while-disabled', `vector 0x${vector.toString(16)} latched into the IRR of vCPU ${t.vcpuIndex} while its LAPIC is software-disabled (SVR bit 8 clear): hardware accepts no fixed interrupt then (accept-while-disabled)`);
    }
  }

  /** An invariant hardware keeps broke: stop the VM and say which and why. */
  invariant(vcpu: number, name: string, message: string): void {
    if (this.host.events.active) this.host.events.emit(vcpu, 'invariant', { name, message });
    this.host.requestStop(vcpu, 'invariant', `invariant ${name} broken: ${message}`);
  }

  /**
   * The vCPU takes an interrupt from its LAPIC (IRR -> ISR at this instant). With
   * deferred-irr-ack the vector also stays in IRR until the vCPU's next exit.
   */
  injected(vcpu: number, vector: number): void {
    if (!this.deferredIrrAck) return;
    const l = this.lapics[vcpu];
    l.irr[vector >>> 5] |= 1 << (vector & 31);
    this.deferredIrr[vcpu] = vector;
  }

  /** EOI on a vCPU's LAPIC: an EOI with nothing in service is an invariant violation. */
  checkEoi(vcpu: number): void {
    if (highestVector(this.lapics[vcpu].isr) < 0) {
      this.invariant(vcpu, 'eoi-empty-isr', `vCPU ${vcpu} wrote EOI with no vector in service (ISR empty)`);
    }
  }

  /** Destination vCPUs of an IPI: a lookup for physical unicast, else a scan of the VM. */
  private resolve(src: LocalApic, ipi: Ipi): LocalApic[] {
    if (ipi.shorthand === 'none') {
      const id = unicastPhysicalId(ipi.dest, ipi.destMode, ipi.x2apic);
      if (id >= 0) {
        const t = this.lapicById(id);
        return t && isIpiTarget(t, src, ipi) ? [t] : [];
      }
    } else if (ipi.shorthand === 'self') {
      return [src];
    }
    const out: LocalApic[] = [];
    for (const t of this.lapics) if (isIpiTarget(t, src, ipi)) out.push(t);
    return out;
  }

  /**
   * INIT (SDM vol. 3, 9.4 and table 9-1): an AP resets and waits for SIPI. INIT to self is
   * ignored; INIT reaching the BSP stops the VM, since there is no firmware to run.
   */
  private init(t: LocalApic, toSelf: boolean, origin: string, initiator = -1): void {
    if (toSelf && !this.hasQuirk('init-broadcast-self')) return;
    const c = this.cpus[t.vcpuIndex];
    this.exit(c.index, 'INIT', { vector: 0 });
    if (t.isBsp) {
      this.host.requestStop(c.index, 'init-bsp', `INIT delivered to the BSP (vCPU ${c.index}) by ${origin}: there is no firmware to reboot into`);
      return;
    }
    if (c.activity !== 'active') {
      this.doInit(c, t); // halted or waiting: it is at an exit already
      return;
    }
    // A running target acts on the INIT at its next exit, in a rendezvous whose initiator waits
    // for it, so the INIT has taken effect before the sender's next instruction (a SIPI, say).
    // async-init-suspend is the bug where the sender does not wait.
    this.pendingInit[c.index] = 1;
    this.beginRendezvous(`INIT to vCPU ${c.index}`, initiator, [c.index], () => this.doInit(c, t), !this.hasQuirk('async-init-suspend'));
  }

  private doInit(c: Cpu, t: LocalApic): void {
    const from = c.activity;
    this.pendingInit[c.index] = 0;
    c.reset();
    t.reset('init');
    c.activity = 'wait-for-sipi';
    c.attention = true;
    this.stateChange(c, from, 'wait-for-sipi');
  }

  /** STARTUP: only a vCPU waiting for SIPI starts, in real mode at vector << 12 (SDM 9.4.4.1 note). */
  private sipi(t: LocalApic, vector: number): void {
    const c = this.cpus[t.vcpuIndex];
    this.exit(c.index, 'SIPI', { sipiVector: vector });
    if (c.activity !== 'wait-for-sipi') {
      // A second SIPI, or one to a running vCPU, is ignored (SDM 9.4.4.1) ...
      if (this.pendingInit[c.index]) {
        // ... but here the vCPU should be waiting: the INIT was deferred (async-init-suspend).
        this.invariant(c.index, 'sipi-lost', `STARTUP (vector 0x${vector.toString(16)}) to vCPU ${c.index} found it still running: the INIT sent before it has not taken effect yet (async-init-suspend); hardware would have started it`);
      }
      return;
    }
    c.setSegment(CS, vector << 8, vector << 12, 0xffff, 0x9b);
    c.rip = 0;
    c.activity = 'active';
    c.attention = true;
    c.updateMode();
    this.stateChange(c, 'wait-for-sipi', 'active');
  }

  private stateChange(c: Cpu, from: string, to: string): void {
    if (this.host.events.active && from !== to) this.host.events.emit(c.index, 'vcpu.state', { from, to });
  }

  /** An ICR combination the SDM rules out: ignored, unless a quirk reproduces a hypervisor that honoured it. */
  illegalIpi(src: LocalApic, ipi: Ipi | null): void {
    if (ipi && ipi.mode === 'init' && ipi.shorthand === 'all' && this.hasQuirk('init-broadcast-self')) {
      for (const t of this.lapics) if (t.mode() !== 'disabled') this.init(t, false, `vCPU ${src.vcpuIndex} (INIT to all including self, init-broadcast-self)`, src.vcpuIndex);
    }
  }

  eoiLevel(_src: LocalApic, vector: number): void {
    this.ioapic?.eoi(vector);
  }

  /**
   * vCPU v lowered its processor priority (an EOI, a TPR write): a pending interrupt may
   * have become deliverable, and then the vCPU looks at its next instruction boundary, as
   * the processor does (SDM vol. 3, 11.8.3.1 and 11.8.4). When none has, there is nothing
   * to look at (a compiled block goes on).
   */
  priorityLowered(v: number): void {
    if (this.lapics[v].pendingVector() >= 0) this.cpus[v].attention = true;
  }

  /** Something became deliverable on dst: a halted vCPU wakes if it can take it (SDM: HLT). */
  kick(dst: LocalApic): void {
    const c = this.cpus[dst.vcpuIndex];
    c.attention = true;
    if (dst.takeNmi()) c.nmiPending = true;
    if (c.activity !== 'hlt') return;
    if (c.nmiPending || ((c.flags & IF) && (dst.pendingVector() >= 0 || dst.extIntPending()))) {
      c.activity = 'active';
      this.stateChange(c, 'hlt', 'active');
    }
  }

  /** An LVT entry in INIT mode fired: the INIT comes from the vCPU's own pin, not an IPI to self. */
  localInit(dst: LocalApic): void {
    this.init(dst, false, `its LINT pin`);
  }

  // ---- EPT: host-side remapping of guest-physical memory ---------------------------------------

  /**
   * The host points the guest-physical page at `gpa` at new contents (as a VMM remapping EPT
   * would). Hardware-correct (pmap_invalidate_ept waiting for every vCPU to exit): when this
   * returns no vCPU can see the old page. With ept-invalidate-no-wait, vCPUs keep the old
   * translation until their next exit, and using it breaks the stale-translation invariant.
   */
  remapGuestPage(gpa: number, contents: Uint8Array): void {
    const phys = this.phys!;
    const page = gpa - (gpa % 4096);
    if (contents.length !== 4096) throw new RangeError('remapGuestPage takes exactly one 4 KiB page');
    const old = phys.readBytes(page, 4096);
    phys.writeBytes(page, contents);
    this.eptGeneration++;
    if (this.host.events.active) this.host.events.emit(-1, 'tlb.flush', { kind: 'ept', address: page });
    if (!this.hasQuirk('ept-invalidate-no-wait')) {
      // Every vCPU is out of the guest here (the host runs between slices): all have "exited".
      for (const c of this.cpus) flushTlb(c, true);
      return;
    }
    const vcpus = new Set<number>();
    for (const c of this.cpus) if (c.activity === 'active') vcpus.add(c.index);
    if (vcpus.size === 0) return;
    const pfn = page / 4096;
    this.staleEpt.set(pfn, { old, vcpus });
    const stale = (pa: number) => {
      const v = phys.vcpu;
      const e = this.staleEpt.get(pfn);
      if (!e || !e.vcpus.has(v)) return false;
      this.invariant(v, 'stale-translation', `vCPU ${v} used its old translation of guest-physical page 0x${page.toString(16)} (address 0x${pa.toString(16)}) after the host remapped it (EPT generation ${this.eptGeneration}): the invalidation returned before the vCPU exited (ept-invalidate-no-wait)`);
      return true;
    };
    phys.interceptPage(pfn, {
      read: (pa, size) => {
        if (stale(pa)) {
          const e = this.staleEpt.get(pfn)!;
          let v = 0;
          for (let k = 0; k < size; k++) v |= e.old[(pa & 0xfff) + k] << (8 * k);
          return v >>> 0;
        }
        let v = 0;
        for (let k = 0; k < size; k++) v |= phys.u8[pa + k] << (8 * k);
        return v >>> 0;
      },
      write: (pa, size, v) => {
        stale(pa);
        for (let k = 0; k < size; k++) phys.u8[pa + k] = (v >>> (8 * k)) & 0xff;
        phys.written[pfn] = 1;
      },
    });
  }

  /** A vCPU exited: it has dropped any stale EPT translation. */
  private exitedForEpt(vcpu: number): void {
    let was = false;
    for (const [pfn, e] of this.staleEpt) {
      if (!e.vcpus.delete(vcpu)) continue;
      was = true;
      if (e.vcpus.size === 0) {
        this.staleEpt.delete(pfn);
        this.phys!.releasePage(pfn);
      }
    }
    if (was) flushTlb(this.cpus[vcpu], true);
  }

  // ---- rendezvous ----------------------------------------------------------------------------

  /** Starts (or queues) a rendezvous of `requested` vCPUs running `func`; `initiator` is -1 for the host. */
  beginRendezvous(name: string, initiator: number, requested: readonly number[], func: (vcpu: number) => void, initiatorWaits = false): void {
    const set = new Uint8Array(this.cpus.length);
    for (const v of requested) set[v] = 1;
    this.rendezvousQueue.push({ name, initiator, requested: set, func, initiatorWaits });
    if (!this.rendezvous) this.startNextRendezvous();
  }

  private startNextRendezvous(): void {
    const next = this.rendezvousQueue.shift();
    if (!next) { this.rendezvous = null; return; }
    let remaining = 0;
    for (let v = 0; v < this.cpus.length; v++) if (next.requested[v]) remaining++;
    const r: Rendezvous = { ...next, done: new Uint8Array(this.cpus.length), remaining, spurious: new Uint8Array(this.cpus.length) };
    this.rendezvous = r;
    if (this.host.events.active) {
      const list: number[] = [];
      for (let v = 0; v < this.cpus.length; v++) if (r.requested[v]) list.push(v);
      this.host.events.emit(r.initiator, 'rendezvous.begin', { initiator: r.initiator, requested: list, name: r.name });
    }
    // vCPUs that are not executing (halted, waiting for SIPI) are at an exit already: they take part now.
    for (let v = 0; v < this.cpus.length; v++) {
      this.cpus[v].attention = true;
      if (r.requested[v] && this.cpus[v].activity !== 'active') this.arrive(r, v);
    }
    if (r.remaining === 0) this.endRendezvous(r);
  }

  private arrive(r: Rendezvous, v: number): void {
    if (r.done[v]) return;
    this.exit(v, 'RENDEZVOUS', { register: r.name });
    r.func(v);
    r.done[v] = 1;
    r.remaining--;
    if (this.host.events.active) this.host.events.emit(v, 'rendezvous.arrive', { name: r.name });
  }

  private endRendezvous(r: Rendezvous): void {
    if (this.host.events.active) this.host.events.emit(r.initiator, 'rendezvous.end', { name: r.name });
    for (const c of this.cpus) c.attention = true;
    this.startNextRendezvous();
  }

  /** Whether vCPU v has done its part of the rendezvous and waits for the others (not scheduled). */
  frozen(v: number): boolean {
    const r = this.rendezvous;
    if (r === null) return false;
    return r.done[v] === 1 || (r.initiatorWaits && r.initiator === v && r.requested[v] === 0);
  }

  /** bhyve's run state of a vCPU, derived from what it is doing. */
  runState(v: number): RunState {
    if (this.running === v) return 'RUNNING';
    if (this.frozen(v)) return 'FROZEN';
    const a = this.cpus[v].activity;
    return a === 'hlt' || a === 'wait-for-sipi' ? 'SLEEPING' : 'IDLE';
  }

  /** Whether boundary() would return false and do nothing: it acts only on a rendezvous. */
  boundaryIdle(): boolean {
    return this.rendezvous === null;
  }

  /** At an instruction boundary with attention set: pending INIT, rendezvous. True = leave the loop. */
  boundary(c: Cpu): boolean {
    const r = this.rendezvous;
    if (r === null) return false;
    const v = c.index;
    if (r.requested[v]) {
      if (!r.done[v]) this.arrive(r, v);
      if (r.remaining === 0) this.endRendezvous(r);
      return true; // out of the loop: wait for the others, or act on what the function changed
    }
    if (r.initiatorWaits && r.initiator === v) return true;
    if (this.hasQuirk('spurious-rendezvous') && !r.spurious[v]) {
      // The bug: the vCPU sees "a rendezvous is pending" without checking the set, and exits for nothing.
      r.spurious[v] = 1;
      this.exit(v, 'RENDEZVOUS', { register: `${r.name} (spurious: not in the requested set)` });
    }
    return false;
  }

  // ---- IoApicSink ----------------------------------------------------------------------------

  /** IOAPIC messages take the same path as IPIs: 8-bit destinations, never shorthands. */
  deliver(msg: IoApicMessage): void {
    const targets: LocalApic[] = [];
    const id = unicastPhysicalId(msg.dest, msg.destMode, false);
    if (id >= 0) {
      const t = this.lapicById(id);
      if (t && matchesDestination(t, msg.dest, msg.destMode, false)) targets.push(t);
    } else {
      for (const t of this.lapics) if (matchesDestination(t, msg.dest, msg.destMode, false)) targets.push(t);
    }
    switch (msg.mode) {
      case 'fixed': for (const t of targets) this.accept(t, msg.vector, msg.trigger, 'ioapic'); return;
      case 'lowest': { const t = arbitrateLowestPriority(targets); if (t) this.accept(t, msg.vector, msg.trigger, 'ioapic'); return; }
      case 'nmi': for (const t of targets) t.acceptNmi(); return;
      case 'smi': for (const t of targets) t.acceptSmi(); return;
      case 'extint': for (const t of targets) t.acceptExtInt(); return;
      case 'init': for (const t of targets) this.init(t, false, `IOAPIC pin ${msg.pin}`); return;
    }
  }
}
