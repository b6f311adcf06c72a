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
import { Capability, EXIT_INDEX, EXIT_REASONS, ExitQualification, ExitReason, Quirk } from './types';

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
  /** The last exit of each vCPU (for the debugger). */
  readonly lastExit: ({ reason: ExitReason; qualification: ExitQualification } | null)[];
  /** APIC ID -> LocalApic, for physical unicast in O(1). */
  private readonly byApicId = new Map<number, LocalApic>();
  ioapic: IoApic | null = null;

  /** The LAPICs, one per vCPU (attach() fills it: they need this Vmm as their bus first). */
  readonly lapics: LocalApic[] = [];

  constructor(
    readonly cpus: readonly Cpu[],
    private readonly host: VmmHost,
    readonly options: VmmOptions,
  ) {
    this.exitCounts = new Uint32Array(cpus.length * EXIT_REASONS.length);
    this.lastExit = cpus.map(() => null);
  }

  attach(lapics: readonly LocalApic[]): void {
    this.lapics.push(...lapics);
    for (const l of lapics) this.byApicId.set(l.apicId >>> 0, l);
  }

  // ---- exits ---------------------------------------------------------------------------

  /** Records an exit: counted, remembered, and an event. */
  exit(vcpu: number, reason: ExitReason, qualification: ExitQualification): void {
    this.exitCounts[vcpu * EXIT_REASONS.length + EXIT_INDEX[reason]]++;
    this.lastExit[vcpu] = { reason, qualification };
    if (this.host.events.active) this.host.events.emit(vcpu, 'exit', { reason, ...qualification });
  }

  exitCount(vcpu: number, reason: ExitReason): number {
    return this.exitCounts[vcpu * EXIT_REASONS.length + EXIT_INDEX[reason]];
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
        if (ipi.mode === 'init') this.init(t, t === src, `vCPU ${src.vcpuIndex}`);
        else this.sipi(t, ipi.vector);
      }
      return;
    }
    switch (ipi.mode) {
      case 'fixed':
        for (const t of targets) t.acceptInterrupt(ipi.vector, ipi.trigger, 'ipi');
        return;
      case 'lowest': {
        const t = arbitrateLowestPriority(targets);
        if (t) t.acceptInterrupt(ipi.vector, ipi.trigger, 'ipi');
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

  /** Destination vCPUs of an IPI: a lookup for physical unicast, else a scan of the VM. */
  private resolve(src: LocalApic, ipi: Ipi): LocalApic[] {
    if (ipi.shorthand === 'none') {
      const id = unicastPhysicalId(ipi.dest, ipi.destMode, ipi.x2apic);
      if (id >= 0) {
        const t = this.byApicId.get(id);
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
  private init(t: LocalApic, toSelf: boolean, origin: string): void {
    if (toSelf && !this.hasQuirk('init-broadcast-self')) return;
    const c = this.cpus[t.vcpuIndex];
    this.exit(c.index, 'INIT', { vector: 0 });
    if (t.isBsp) {
      this.host.requestStop(c.index, 'init-bsp', `INIT delivered to the BSP (vCPU ${c.index}) by ${origin}: there is no firmware to reboot into`);
      return;
    }
    const from = c.activity;
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
    if (c.activity !== 'wait-for-sipi') return; // a second SIPI, or one to a running vCPU, is ignored
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

  eoiLevel(_src: LocalApic, vector: number): void {
    this.ioapic?.eoi(vector);
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

  // ---- IoApicSink ----------------------------------------------------------------------------

  /** IOAPIC messages take the same path as IPIs: 8-bit destinations, never shorthands. */
  deliver(msg: IoApicMessage): void {
    const targets: LocalApic[] = [];
    const id = unicastPhysicalId(msg.dest, msg.destMode, false);
    if (id >= 0) {
      const t = this.byApicId.get(id);
      if (t && matchesDestination(t, msg.dest, msg.destMode, false)) targets.push(t);
    } else {
      for (const t of this.lapics) if (matchesDestination(t, msg.dest, msg.destMode, false)) targets.push(t);
    }
    switch (msg.mode) {
      case 'fixed': for (const t of targets) t.acceptInterrupt(msg.vector, msg.trigger, 'ioapic'); return;
      case 'lowest': { const t = arbitrateLowestPriority(targets); if (t) t.acceptInterrupt(msg.vector, msg.trigger, 'ioapic'); return; }
      case 'nmi': for (const t of targets) t.acceptNmi(); return;
      case 'smi': for (const t of targets) t.acceptSmi(); return;
      case 'extint': for (const t of targets) t.acceptExtInt(); return;
      case 'init': for (const t of targets) this.init(t, false, `IOAPIC pin ${msg.pin}`); return;
    }
  }
}
