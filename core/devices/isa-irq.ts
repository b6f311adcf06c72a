// The ISA interrupt lines 0-15 of the PC. Devices drive a line; every attached
// controller input sees the same level (the 8259 pair now, the IOAPIC when it comes:
// on QEMU's pc machine both listen to every ISA IRQ, the IOAPIC on GSI = IRQ except
// IRQ0 -> GSI2, which is that controller's own mapping).
import { IrqLines } from './types';

export class IsaIrqRouter implements IrqLines {
  /** Current level of each line, bit n = IRQ n (for the debugger and snapshots). */
  levels = 0;
  private readonly sinks: IrqLines[] = [];

  /** Adds a controller that receives every line change (ISA IRQ numbers, 0-15). */
  attach(sink: IrqLines): void {
    this.sinks.push(sink);
  }

  setIrq(irq: number, level: boolean): void {
    if (irq < 0 || irq > 15) throw new RangeError(`ISA IRQ ${irq} out of range`);
    if (level) this.levels |= 1 << irq;
    else this.levels &= ~(1 << irq);
    for (const s of this.sinks) s.setIrq(irq, level);
  }

  /** Edge devices: a rising then a falling edge. */
  pulse(irq: number): void {
    this.setIrq(irq, true);
    this.setIrq(irq, false);
  }
}
