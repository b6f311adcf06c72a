// The I/O APIC at 0xFEC00000 (Intel 82093AA I/O APIC datasheet, order no. 290566),
// with the register values QEMU 7.2's pc machine shows: 24 pins, version 0x20 (which
// adds the EOI register at offset 0x40 of the ICH I/O APICs), ID 0.
//
// Registers: IOREGSEL (offset 0x00, bits 7:0 select a register) and IOWIN (0x10, the
// selected 32-bit register). Indirect registers: 0x00 ID (bits 27:24), 0x01 VER
// (0x00170020, read-only), 0x02 ARB (bits 27:24, read-only: the datasheet loads it
// with the ID), 0x10 + 2n / 0x11 + 2n the low / high halves of redirection entry n.
//
// A pin is an electrical level; an entry's polarity says which level asserts it.
//  - Edge: the asserting transition sends one message if the entry is not masked; "edge-
//    sensitive interrupts signaled on a masked interrupt pin are ignored (i.e., not
//    delivered or held pending)" (datasheet). QEMU 7.2 instead holds such an edge and
//    delivers it on unmask.
//  - Level (fixed and lowest-priority only: the datasheet makes SMI, NMI, INIT and
//    ExtINT edge): while asserted, unmasked and with remote IRR clear, a message is sent
//    and remote IRR set; an EOI for the entry's vector (broadcast from a local APIC, or
//    written to the EOI register) clears remote IRR and, if the pin is still asserted,
//    the message is sent again. Unmasking an asserted level pin sends it too.
// Delivery is instantaneous, so delivery status (bit 12) always reads 0. Reserved bits
// of an entry are not stored (QEMU stores them). Switching an entry to edge clears its
// remote IRR, as QEMU does.
import type { AccessSize, MmioDevice } from '../memory/bus';
import { EventStream } from '../trace/events';
import type { IrqLines } from '../devices/types';
import type { IoApicDeliveryMode, IoApicSink } from './types';

export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_SIZE = 0x1000;
export const IOAPIC_PINS = 24;
export const IOAPIC_VERSION = 0x20;

// MMIO offsets.
export const IOAPIC_IOREGSEL = 0x00;
export const IOAPIC_IOWIN = 0x10;
export const IOAPIC_EOI = 0x40;
// Indirect register indices.
export const IOAPIC_REG_ID = 0x00;
export const IOAPIC_REG_VER = 0x01;
export const IOAPIC_REG_ARB = 0x02;
export const IOAPIC_REG_REDTBL = 0x10;

/** VER: max redirection entry 23 in bits 23:16, version 0x20. */
export const IOAPIC_VER_VALUE = ((IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;

// Redirection entry, low half.
export const RTE_VECTOR = 0xff;
export const RTE_DEST_LOGICAL = 1 << 11;
export const RTE_DELIVERY_STATUS = 1 << 12;
export const RTE_POLARITY_LOW = 1 << 13;
export const RTE_REMOTE_IRR = 1 << 14;
export const RTE_TRIGGER_LEVEL = 1 << 15;
export const RTE_MASKED = 1 << 16;
/** Bits software writes in the low half: vector, delivery mode, destination mode, polarity, trigger, mask. */
export const RTE_LOW_WRITABLE = 0x0001afff;
/** High half: destination in bits 63:56. */
export const RTE_HIGH_WRITABLE = 0xff000000;

const MODES: readonly (IoApicDeliveryMode | null)[] = ['fixed', 'lowest', 'smi', null, 'nmi', 'init', null, 'extint'];

/** GSI of an ISA IRQ with the MADT interrupt source overrides QEMU's pc machine declares: IRQ0 -> GSI 2, others identity. */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}

export class IoApic implements MmioDevice, IrqLines {
  readonly name = 'ioapic';
  /** I/O APIC ID (4 bits). */
  id = 0;
  /** IOREGSEL (8 bits). */
  ioregsel = 0;
  /** Redirection entries: [2n] low half, [2n + 1] high half. */
  readonly redir = new Uint32Array(IOAPIC_PINS * 2);
  /** Electrical level of each pin, bit n = pin n. */
  pinLevels = 0;

  constructor(private readonly sink: IoApicSink, private readonly events: EventStream) {
    this.reset();
  }

  /** Reset: every entry masked, everything else 0 (datasheet; the pin levels are external and kept). */
  reset(): void {
    this.id = 0;
    this.ioregsel = 0;
    for (let n = 0; n < IOAPIC_PINS; n++) {
      this.redir[2 * n] = RTE_MASKED;
      this.redir[2 * n + 1] = 0;
    }
  }

  // ---------------------------------------------------------------- MMIO

  mmioRead(offset: number, size: AccessSize): number {
    if (offset >= IOAPIC_IOREGSEL && offset < IOAPIC_IOREGSEL + 4) return this.ioregsel >>> ((offset & 3) * 8);
    if (offset >= IOAPIC_IOWIN && offset < IOAPIC_IOWIN + 4) {
      const v = this.readRegister(this.ioregsel) >>> ((offset & 3) * 8);
      return size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
    }
    return 0;
  }

  mmioWrite(offset: number, size: AccessSize, value: number): void {
    if (offset === IOAPIC_IOREGSEL) this.ioregsel = value & 0xff;
    else if (offset === IOAPIC_IOWIN && size === 4) this.writeRegister(this.ioregsel, value >>> 0);
    else if (offset === IOAPIC_EOI && size === 4) this.eoi(value & 0xff);
  }

  readRegister(index: number): number {
    switch (index) {
      case IOAPIC_REG_ID: return (this.id << 24) >>> 0;
      case IOAPIC_REG_VER: return IOAPIC_VER_VALUE;
      case IOAPIC_REG_ARB: return (this.id << 24) >>> 0;
    }
    const n = index - IOAPIC_REG_REDTBL;
    if (n >= 0 && n < IOAPIC_PINS * 2) return this.redir[n];
    return 0;
  }

  writeRegister(index: number, value: number): void {
    if (this.events.active) this.events.emit(-1, 'ioapic.write', { register: index, value: value >>> 0 });
    if (index === IOAPIC_REG_ID) { this.id = (value >>> 24) & 0xf; return; }
    const n = index - IOAPIC_REG_REDTBL;
    if (n < 0 || n >= IOAPIC_PINS * 2) return; // VER, ARB read-only; others do not exist
    const pin = n >> 1;
    if (n & 1) { this.redir[n] = value & RTE_HIGH_WRITABLE; return; }
    const old = this.redir[n];
    let lo = (value & RTE_LOW_WRITABLE) | (old & RTE_REMOTE_IRR);
    if (!(lo & RTE_TRIGGER_LEVEL)) lo &= ~RTE_REMOTE_IRR;
    this.redir[n] = lo >>> 0;
    if (this.isLevel(pin) && this.asserted(pin)) this.service(pin);
  }

  // ---------------------------------------------------------------- pins

  /** Whether `pin` is asserted: its level, inverted for an active-low entry. */
  asserted(pin: number): boolean {
    const high = ((this.pinLevels >>> pin) & 1) !== 0;
    return high !== ((this.redir[2 * pin] & RTE_POLARITY_LOW) !== 0);
  }

  /** Level-sensitive: trigger bit set and a delivery mode that can be level (fixed, lowest). */
  private isLevel(pin: number): boolean {
    const lo = this.redir[2 * pin];
    return (lo & RTE_TRIGGER_LEVEL) !== 0 && ((lo >>> 8) & 7) <= 1;
  }

  /** Drives the electrical level of a pin (GSI 0-23). */
  setPin(pin: number, level: boolean): void {
    if (pin < 0 || pin >= IOAPIC_PINS) throw new RangeError(`IOAPIC pin ${pin} out of range`);
    const before = this.asserted(pin);
    if (level) this.pinLevels |= 1 << pin;
    else this.pinLevels &= ~(1 << pin);
    const now = this.asserted(pin);
    if (this.isLevel(pin)) {
      if (now) this.service(pin);
    } else if (now && !before) {
      this.service(pin);
    }
  }

  /** IrqLines: an ISA IRQ (0-15), routed to its GSI as the MADT overrides say. */
  setIrq(irq: number, level: boolean): void {
    this.setPin(isaIrqToGsi(irq), level);
  }

  /** Sends pin's message if the entry allows it (not masked; for level, remote IRR clear). */
  private service(pin: number): void {
    const lo = this.redir[2 * pin];
    if (lo & RTE_MASKED) return;
    const mode = MODES[(lo >>> 8) & 7];
    if (mode === null) return; // reserved delivery modes 011 and 110 send nothing
    const level = this.isLevel(pin);
    if (level) {
      if (lo & RTE_REMOTE_IRR) return;
      this.redir[2 * pin] = lo | RTE_REMOTE_IRR;
    }
    const msg = {
      pin,
      vector: lo & RTE_VECTOR,
      mode,
      destMode: lo & RTE_DEST_LOGICAL ? 'logical' as const : 'physical' as const,
      dest: this.redir[2 * pin + 1] >>> 24,
      trigger: level ? 'level' as const : 'edge' as const,
    };
    if (this.events.active) this.events.emit(-1, 'ioapic.deliver', msg);
    this.sink.deliver(msg);
  }

  /**
   * EOI for `vector` (broadcast by a local APIC for a level-triggered vector, or written
   * to the EOI register): clears remote IRR of every level entry with that vector and
   * re-sends those whose pin is still asserted. Returns the pins it cleared (bit mask).
   */
  eoi(vector: number): number {
    let cleared = 0;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.redir[2 * pin];
      if ((lo & RTE_REMOTE_IRR) && (lo & RTE_VECTOR) === vector) {
        this.redir[2 * pin] = lo & ~RTE_REMOTE_IRR;
        cleared |= 1 << pin;
      }
    }
    if (this.events.active) this.events.emit(-1, 'ioapic.eoi', { vector, pins: cleared >>> 0 });
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      if ((cleared >>> pin) & 1 && this.isLevel(pin) && this.asserted(pin)) this.service(pin);
    }
    return cleared >>> 0;
  }

  /** Decoded entry, for the debugger and tests. */
  entry(pin: number) {
    const lo = this.redir[2 * pin];
    return {
      vector: lo & RTE_VECTOR,
      mode: MODES[(lo >>> 8) & 7] ?? 'reserved',
      destMode: lo & RTE_DEST_LOGICAL ? 'logical' : 'physical',
      polarity: lo & RTE_POLARITY_LOW ? 'low' : 'high',
      remoteIrr: (lo & RTE_REMOTE_IRR) !== 0,
      trigger: lo & RTE_TRIGGER_LEVEL ? 'level' : 'edge',
      masked: (lo & RTE_MASKED) !== 0,
      dest: this.redir[2 * pin + 1] >>> 24,
    };
  }
}
