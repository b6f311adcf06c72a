// Small interfaces shared by the platform devices and whoever drives them (the
// scheduler, the interrupt controllers, the machine assembly).

/** Virtual time source: nanoseconds since power-on, advanced by the scheduler. */
export interface VirtualClock { nowNs(): number; }

/** A device with timed behaviour: the scheduler asks for its next deadline and calls fire() when virtual time reaches it. */
export interface TimedDevice { nextDeadlineNs(): number /* Infinity when none */; fire(nowNs: number): void; }

/** An interrupt controller input: ISA IRQ lines (edge devices pulse: level true then false). */
export interface IrqLines { setIrq(irq: number, level: boolean): void; }
