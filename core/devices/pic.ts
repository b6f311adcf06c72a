// Dual Intel 8259A programmable interrupt controllers (Intel 8259A datasheet, order
// no. 231468): master at 0x20/0x21, slave at 0xA0/0xA1 cascaded on the master's IR2,
// plus the PIIX edge/level control registers (ELCR) at 0x4D0/0x4D1.
//
// The CPU side is the INTR line (hasInterrupt()) and the INTA cycle (acknowledge(),
// which returns the vector). Initial state is what a QEMU 7.2 -kernel guest finds after
// SeaBIOS (probes/probe.c, probe3.c): vector bases 0x08 and 0x70, ICW4 8086 mode,
// masks 0xB8/0x8E (IRQ 0, 1, 2, 6, 8, 12, 13, 14 unmasked), ELCR 0x00/0x0C (IRQ 10
// and 11 level), and IRQ 4 latched in the master's IRR by SeaBIOS's serial probe.
import { AccessSize, PortDevice } from '../memory/bus';
import { IrqLines } from './types';

export const PIC_MASTER_BASE = 0x20;
export const PIC_SLAVE_BASE = 0xa0;
export const ELCR_BASE = 0x4d0;
/** The master input the slave's INT output is wired to. */
export const CASCADE_IRQ = 2;

/** One 8259A. Plain fields, named as the datasheet names them. */
export class I8259 {
  /** Interrupt request register. */
  irr = 0;
  /** In-service register. */
  isr = 0;
  /** Interrupt mask register (OCW1). */
  imr = 0;
  /** Input levels as last driven, for edge detection (a rising edge sets IRR). */
  lastLevels = 0;
  /** Edge/level control: 1 = level-triggered input (PIIX ELCR). */
  elcr = 0;
  /** Bits of ELCR that may be set (IRQ 0, 1, 2, 8, 13 are always edge). */
  readonly elcrMask: number;
  /** ICW2: vector of IR0 (low 3 bits zero). */
  vectorBase = 0;
  /** Lowest-priority rotation: IR(priorityAdd) has the highest priority. */
  priorityAdd = 0;
  /** OCW3 RR/RIS: the even port reads ISR (true) or IRR (false). */
  readIsr = false;
  /** OCW3 P: the next read is a poll. */
  poll = false;
  /** OCW3 SMM: special mask mode. */
  specialMask = false;
  /** ICW sequence: 0 = done, else the number of the ICW expected next (2, 3 or 4). */
  initState = 0;
  /** ICW1 IC4: an ICW4 follows. */
  needIcw4 = false;
  /** ICW1 SNGL: no ICW3. */
  single = false;
  /** ICW1 LTIM: every input level-triggered. */
  levelTriggered = false;
  /** ICW3 (master: inputs with a slave; slave: its id). */
  icw3 = 0;
  /** ICW4 AEOI: end of interrupt at the second INTA pulse. */
  autoEoi = false;
  /** OCW2 rotate in automatic EOI mode. */
  rotateOnAutoEoi = false;
  /** ICW4 SFNM: special fully nested mode (master: the slave's line may nest). */
  specialFullyNested = false;

  constructor(readonly isMaster: boolean) {
    this.elcrMask = isMaster ? 0xf8 : 0xde;
  }

  /** Inputs that are level-triggered. */
  levelMask(): number {
    return this.levelTriggered ? 0xff : this.elcr;
  }

  /** Drives input `n` (0-7). */
  setInput(n: number, level: boolean): void {
    const bit = 1 << n;
    if (this.levelMask() & bit) {
      // Level mode: IRR follows the line.
      if (level) this.irr |= bit;
      else this.irr &= ~bit;
    } else if (level && !(this.lastLevels & bit)) {
      this.irr |= bit; // rising edge
    }
    if (level) this.lastLevels |= bit;
    else this.lastLevels &= ~bit;
  }

  /** Priority (0 = highest) of the highest set bit of `mask` after rotation; 8 when none. */
  priorityOf(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The input that would be delivered now, or -1 (datasheet, "Priority resolver"). */
  pending(): number {
    const requests = this.irr & ~this.imr;
    if (this.specialMask) {
      // Special mask mode: every unmasked request not in service may interrupt,
      // whatever the priority of those in service (datasheet, "Special Mask Mode").
      const p = this.priorityOf(requests & ~this.isr);
      return p === 8 ? -1 : (p + this.priorityAdd) & 7;
    }
    const p = this.priorityOf(requests);
    if (p === 8) return -1;
    let inService = this.isr;
    // Special fully nested mode: a request from the slave may interrupt the slave's own service.
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << CASCADE_IRQ);
    return p < this.priorityOf(inService) ? (p + this.priorityAdd) & 7 : -1;
  }

  /** The INTA cycle for input `n`: ISR set (unless automatic EOI), edge request cleared. */
  intack(n: number): void {
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (n + 1) & 7;
    } else {
      this.isr |= 1 << n;
    }
    // A level-triggered request stays in IRR while its line is high.
    if (!(this.levelMask() & (1 << n))) this.irr &= ~(1 << n);
  }

  /** Port reads: even = IRR/ISR (or poll), odd = IMR. */
  read(odd: boolean): number {
    if (this.poll) {
      this.poll = false;
      return this.pollRead();
    }
    if (odd) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  /** Poll command: acknowledges the highest request like an INTA cycle and reports it (bit 7 = request). */
  private pollRead(): number {
    const n = this.pending();
    if (n < 0) return 0;
    this.intack(n);
    return 0x80 | n;
  }

  write(odd: boolean, v: number): void {
    if (!odd) {
      if (v & 0x10) this.icw1(v);
      else if (v & 0x08) this.ocw3(v);
      else this.ocw2(v);
      return;
    }
    switch (this.initState) {
      case 0:
        this.imr = v; // OCW1
        return;
      case 2:
        this.vectorBase = v & 0xf8;
        this.initState = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3:
        this.icw3 = v;
        this.initState = this.needIcw4 ? 4 : 0;
        return;
      default:
        this.autoEoi = (v & 0x02) !== 0;
        this.specialFullyNested = (v & 0x10) !== 0;
        this.initState = 0;
    }
  }

  /** ICW1 starts initialisation: IMR cleared, IR7 lowest priority, edge detection reset, read IRR. */
  private icw1(v: number): void {
    this.irr &= this.levelMask();
    this.lastLevels = 0;
    this.imr = 0;
    this.isr = 0;
    this.priorityAdd = 0;
    this.readIsr = false;
    this.poll = false;
    this.specialMask = false;
    this.autoEoi = false;
    this.rotateOnAutoEoi = false;
    this.specialFullyNested = false;
    this.needIcw4 = (v & 0x01) !== 0;
    this.single = (v & 0x02) !== 0;
    this.levelTriggered = (v & 0x08) !== 0;
    this.initState = 2;
  }

  /** OCW2: EOI and rotation commands (R, SL, EOI bits 7-5; level in bits 2-0). */
  private ocw2(v: number): void {
    const level = v & 7;
    switch (v >>> 5) {
      case 0: // rotate in automatic EOI mode: clear
      case 4: // rotate in automatic EOI mode: set
        this.rotateOnAutoEoi = (v & 0x80) !== 0;
        break;
      case 1: // non-specific EOI
      case 5: { // rotate on non-specific EOI
        const p = this.priorityOf(this.isr);
        if (p === 8) break;
        const n = (p + this.priorityAdd) & 7;
        this.isr &= ~(1 << n);
        if (v & 0x80) this.priorityAdd = (n + 1) & 7;
        break;
      }
      case 3: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 6: // set priority: `level` becomes the lowest
        this.priorityAdd = (level + 1) & 7;
        break;
      case 7: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        break;
      default: // 2: no operation
        break;
    }
  }

  /** OCW3: ESMM/SMM (bits 6-5), P (bit 2), RR/RIS (bits 1-0). */
  private ocw3(v: number): void {
    if (v & 0x04) this.poll = true;
    if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
    if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
  }
}

/** Both 8259As and the ELCR, as one device on the port bus and one IrqLines for ISA IRQs 0-15. */
export class DualPic implements PortDevice, IrqLines {
  readonly name = 'i8259-pic';
  readonly master = new I8259(true);
  readonly slave = new I8259(false);

  constructor() {
    const m = this.master;
    const s = this.slave;
    m.vectorBase = 0x08;
    m.icw3 = 0x04;
    m.imr = 0xb8;
    m.irr = 0x10; // SeaBIOS's serial detection left IRQ 4's edge latched (masked)
    s.vectorBase = 0x70;
    s.icw3 = 0x02;
    s.imr = 0x8e;
    s.elcr = 0x0c; // PCI interrupt links on IRQ 10 and 11, level-triggered
  }

  /** ISA IRQ 0-7 drive the master's inputs, 8-15 the slave's. */
  setIrq(irq: number, level: boolean): void {
    if (irq < 8) {
      this.master.setInput(irq, level);
    } else {
      this.slave.setInput(irq - 8, level);
      this.updateCascade();
    }
  }

  /** The master's INT output: the CPU's INTR line. */
  hasInterrupt(): boolean {
    return this.master.pending() >= 0;
  }

  /**
   * The INTA cycle: returns the vector and moves the request to ISR. If the request
   * went away before INTA, the 8259A answers with IR7's vector without setting ISR
   * (a spurious interrupt: vector base + 7 on the master; on the slave, base + 7 of
   * the slave while the master still acknowledges its cascade input).
   */
  acknowledge(): number {
    const m = this.master;
    const s = this.slave;
    const n = m.pending();
    let vector: number;
    if (n < 0) {
      vector = m.vectorBase + 7;
    } else {
      if (n === CASCADE_IRQ) {
        const n2 = s.pending();
        if (n2 >= 0) {
          s.intack(n2);
          vector = s.vectorBase + n2;
        } else {
          vector = s.vectorBase + 7;
        }
      } else {
        vector = m.vectorBase + n;
      }
      m.intack(n);
    }
    this.updateCascade();
    return vector;
  }

  portRead(port: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readByte((port + i) & 0xffff) << (8 * i);
    return v >>> 0;
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeByte((port + i) & 0xffff, (value >>> (8 * i)) & 0xff);
  }

  private readByte(port: number): number {
    switch (port) {
      case ELCR_BASE: return this.master.elcr;
      case ELCR_BASE + 1: return this.slave.elcr;
      default: {
        const chip = (port & 0xfe) === PIC_SLAVE_BASE ? this.slave : this.master;
        const v = chip.read((port & 1) === 1);
        this.updateCascade();
        return v;
      }
    }
  }

  private writeByte(port: number, v: number): void {
    switch (port) {
      case ELCR_BASE:
        this.master.elcr = v & this.master.elcrMask;
        return;
      case ELCR_BASE + 1:
        this.slave.elcr = v & this.slave.elcrMask;
        this.updateCascade();
        return;
      default: {
        const chip = (port & 0xfe) === PIC_SLAVE_BASE ? this.slave : this.master;
        chip.write((port & 1) === 1, v);
        this.updateCascade();
      }
    }
  }

  /** The slave's INT output drives the master's IR2 (edge-triggered there). */
  private updateCascade(): void {
    this.master.setInput(CASCADE_IRQ, this.slave.pending() >= 0);
  }
}
