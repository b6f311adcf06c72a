// 16550A UART, as QEMU's "serial" device presents COM1 to a guest (National
// Semiconductor PC16550D datasheet; register values after SeaBIOS checked against
// QEMU 7.2 with test/core/devices/probes/probe2.c).
//
// Transmission is instant: a THR write leaves THRE|TEMT set at once (QEMU with a
// stdio backend does the same). Reception takes bytes from pushInput() into the RX
// FIFO (or the single RBR with the FIFO off) as room frees up, so host input is never
// overrun, like QEMU's chardev flow control. The character timeout interrupt (FIFO
// mode) is the one timed behaviour: four character times after the last byte moved.
import { AccessSize, PortDevice } from '../memory/bus';
import { EventStream } from '../trace/events';
import { IrqLines, TimedDevice, VirtualClock } from './types';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;

// Register offsets from the base (datasheet table 2).
export const UART_RBR_THR = 0; // DLL when LCR.DLAB
export const UART_IER = 1;     // DLM when LCR.DLAB
export const UART_IIR_FCR = 2;
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const IER_RDI = 0x01;  // received data available
export const IER_THRI = 0x02; // THR empty
export const IER_RLSI = 0x04; // receiver line status
export const IER_MSI = 0x08;  // modem status

export const IIR_NO_INT = 0x01;
export const IIR_MSI = 0x00;
export const IIR_THRI = 0x02;
export const IIR_RDI = 0x04;
export const IIR_RLSI = 0x06;
export const IIR_CTI = 0x0c; // character timeout (FIFO mode)
export const IIR_FIFO_ENABLED = 0xc0;

export const FCR_FE = 0x01;  // FIFO enable
export const FCR_RFR = 0x02; // receiver FIFO reset
export const FCR_XFR = 0x04; // transmitter FIFO reset

export const LCR_DLAB = 0x80;

export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;

export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
const LSR_INT_ANY = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;
const MSR_ANY_DELTA = 0x0f;

const FIFO_SIZE = 16;
/** The 1.8432 MHz crystal divided by 16. */
const BAUD_BASE = 115200;
/** Receiver FIFO trigger levels selected by FCR bits 7:6 (datasheet table 3). */
const TRIGGER_LEVELS = [1, 4, 8, 14];

export interface UartOptions {
  base?: number;
  irq?: number;
  irqLines: IrqLines;
  clock: VirtualClock;
  events: EventStream;
  /** Receives every byte the guest transmits (not in loopback mode). */
  onTransmit(byte: number): void;
}

export class Uart16550 implements PortDevice, TimedDevice {
  readonly name = 'uart16550';
  readonly base: number;
  readonly irq: number;

  // Register state. Reset values are QEMU's serial_reset(): divisor 12 (9600 baud),
  // MCR.OUT2, MSR = DCD|DSR|CTS (a backend without modem lines); SeaBIOS leaves them.
  rbr = 0;
  ier = 0;
  fcr = 0;
  lcr = 0;
  mcr = MCR_OUT2;
  lsr = LSR_THRE | LSR_TEMT;
  msr = MSR_DCD | MSR_DSR | MSR_CTS;
  scr = 0;
  divisor = 12;
  /** A THR-empty interrupt is pending (cleared by reading IIR while it is the one shown, or by writing THR). */
  thrIpending = false;
  /** The FIFO character timeout has expired with bytes still in the FIFO. */
  timeoutIpending = false;
  /** When the character timeout expires; Infinity when not armed. */
  timeoutDeadlineNs = Infinity;
  /** Nanoseconds per character frame (start + data + parity + stop bits) at the current divisor. */
  charTimeNs = 0;
  /** Level currently driven on the IRQ line. */
  irqLevel = false;

  /** The receive FIFO as a ring. */
  readonly rxFifo = new Uint8Array(FIFO_SIZE);
  rxHead = 0;
  rxCount = 0;
  /** Host input not yet accepted by the UART (no room yet). */
  pendingInput: number[] = [];
  /** Bytes transmitted since reset (for the debugger). */
  txCount = 0;

  private readonly irqLines: IrqLines;
  private readonly clock: VirtualClock;
  private readonly events: EventStream;
  private readonly onTransmit: (byte: number) => void;

  constructor(opts: UartOptions) {
    this.base = opts.base ?? COM1_BASE;
    this.irq = opts.irq ?? COM1_IRQ;
    this.irqLines = opts.irqLines;
    this.clock = opts.clock;
    this.events = opts.events;
    this.onTransmit = opts.onTransmit;
    this.updateCharTime();
  }

  // ---- host side ----

  /** Feeds bytes from the host into the receiver; they enter as room allows. */
  pushInput(bytes: Iterable<number>): void {
    for (const b of bytes) this.pendingInput.push(b & 0xff);
    this.drainInput();
  }

  // ---- PortDevice ----

  portRead(port: number, size: AccessSize): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.readReg((port + i - this.base) & 7) << (8 * i);
    return v >>> 0;
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    for (let i = 0; i < size; i++) this.writeReg((port + i - this.base) & 7, (value >>> (8 * i)) & 0xff);
  }

  // ---- TimedDevice ----

  nextDeadlineNs(): number {
    return this.timeoutDeadlineNs;
  }

  fire(nowNs: number): void {
    if (nowNs < this.timeoutDeadlineNs) return;
    this.timeoutDeadlineNs = Infinity;
    if (this.rxCount > 0) {
      this.timeoutIpending = true;
      this.updateIrq();
    }
  }

  // ---- registers ----

  /** The interrupt identification in priority order (datasheet table 4), without the FIFO bits. */
  interruptId(): number {
    if ((this.ier & IER_RLSI) && (this.lsr & LSR_INT_ANY)) return IIR_RLSI;
    if ((this.ier & IER_RDI) && this.timeoutIpending) return IIR_CTI;
    if ((this.ier & IER_RDI) && (this.lsr & LSR_DR) && (!this.fifoEnabled() || this.rxCount >= this.triggerLevel())) return IIR_RDI;
    if ((this.ier & IER_THRI) && this.thrIpending) return IIR_THRI;
    if ((this.ier & IER_MSI) && (this.msr & MSR_ANY_DELTA)) return IIR_MSI;
    return IIR_NO_INT;
  }

  fifoEnabled(): boolean {
    return (this.fcr & FCR_FE) !== 0;
  }

  triggerLevel(): number {
    return TRIGGER_LEVELS[this.fcr >>> 6];
  }

  private readReg(reg: number): number {
    switch (reg) {
      case UART_RBR_THR:
        if (this.lcr & LCR_DLAB) return this.divisor & 0xff;
        return this.readRbr();
      case UART_IER:
        if (this.lcr & LCR_DLAB) return this.divisor >>> 8;
        return this.ier;
      case UART_IIR_FCR: {
        const id = this.interruptId();
        // Reading IIR while it shows THRE acknowledges that interrupt (datasheet table 4, "reset").
        if (id === IIR_THRI) {
          this.thrIpending = false;
          this.updateIrq();
        }
        return id | (this.fifoEnabled() ? IIR_FIFO_ENABLED : 0);
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR: {
        const v = this.lsr;
        // Overrun and break indications clear when LSR is read.
        if (this.lsr & (LSR_BI | LSR_OE)) {
          this.lsr &= ~(LSR_BI | LSR_OE);
          this.updateIrq();
        }
        return v;
      }
      case UART_MSR:
        if (this.mcr & MCR_LOOP) {
          // Loopback: the modem inputs are wired to the MCR outputs (datasheet 8.6):
          // RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
          return ((this.mcr & (MCR_OUT1 | MCR_OUT2)) << 4) | ((this.mcr & MCR_RTS) << 3) | ((this.mcr & MCR_DTR) << 5);
        } else {
          const v = this.msr;
          if (this.msr & MSR_ANY_DELTA) {
            this.msr &= 0xf0;
            this.updateIrq();
          }
          return v;
        }
      default:
        return this.scr;
    }
  }

  private writeReg(reg: number, v: number): void {
    switch (reg) {
      case UART_RBR_THR:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0xff00) | v;
          this.updateCharTime();
        } else {
          this.writeThr(v);
        }
        return;
      case UART_IER:
        if (this.lcr & LCR_DLAB) {
          this.divisor = (this.divisor & 0x00ff) | (v << 8);
          this.updateCharTime();
        } else {
          const changed = (this.ier ^ v) & 0x0f;
          this.ier = v & 0x0f;
          // Setting ETBEI while THR is empty raises the THRE interrupt even if it was
          // acknowledged before: drivers (and QEMU) rely on toggling IER to kick transmission.
          if (changed & IER_THRI) this.thrIpending = (this.ier & IER_THRI) !== 0 && (this.lsr & LSR_THRE) !== 0;
          if (changed) this.updateIrq();
        }
        return;
      case UART_IIR_FCR:
        this.writeFcr(v);
        return;
      case UART_LCR:
        this.lcr = v;
        this.updateCharTime();
        return;
      case UART_MCR: {
        const wasLoop = (this.mcr & MCR_LOOP) !== 0;
        this.mcr = v & 0x1f;
        if (wasLoop && !(this.mcr & MCR_LOOP)) this.drainInput();
        return;
      }
      case UART_LSR:
      case UART_MSR:
        return; // read-only status registers: writes are ignored
      default:
        this.scr = v;
    }
  }

  private writeThr(v: number): void {
    this.thrIpending = false;
    this.lsr &= ~(LSR_THRE | LSR_TEMT);
    this.updateIrq();
    if (this.mcr & MCR_LOOP) {
      // Loopback: the transmitter output feeds the receiver and nothing leaves the chip.
      this.receiveByte(v);
    } else {
      this.txCount++;
      if (this.events.active) this.events.emit(-1, 'serial.out', { port: this.base, byte: v });
      this.onTransmit(v);
    }
    this.lsr |= LSR_THRE | LSR_TEMT;
    this.thrIpending = true;
    this.updateIrq();
  }

  private writeFcr(v: number): void {
    // Changing the enable bit flushes both FIFOs (datasheet: FCR bit 0).
    if ((v ^ this.fcr) & FCR_FE) v |= FCR_RFR | FCR_XFR;
    if (v & FCR_RFR) {
      this.lsr &= ~(LSR_DR | LSR_BI);
      this.timeoutDeadlineNs = Infinity;
      this.timeoutIpending = false;
      this.rxHead = 0;
      this.rxCount = 0;
    }
    if (v & FCR_XFR) {
      this.lsr |= LSR_THRE;
      this.thrIpending = true;
    }
    this.fcr = v & 0xc9;
    this.updateIrq();
    this.drainInput();
  }

  private readRbr(): number {
    let v: number;
    if (this.fifoEnabled()) {
      v = 0;
      if (this.rxCount > 0) {
        v = this.rxFifo[this.rxHead];
        this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
        this.rxCount--;
      }
      if (this.rxCount === 0) this.lsr &= ~(LSR_DR | LSR_BI);
      else this.armTimeout();
      this.timeoutIpending = false;
    } else {
      // With the FIFO off RBR keeps the last byte: reading it again returns it again.
      v = this.rbr;
      this.lsr &= ~(LSR_DR | LSR_BI);
    }
    this.updateIrq();
    this.drainInput();
    return v;
  }

  /** Puts one byte into the receiver, as the serial input or the loopback path delivers it. */
  private receiveByte(b: number): void {
    if (this.fifoEnabled()) {
      // An overrun keeps the FIFO contents; the new byte is lost (datasheet: LSR bit 1).
      if (this.rxCount < FIFO_SIZE) {
        this.rxFifo[(this.rxHead + this.rxCount) % FIFO_SIZE] = b;
        this.rxCount++;
      } else {
        this.lsr |= LSR_OE;
      }
      this.lsr |= LSR_DR;
      this.armTimeout();
    } else {
      if (this.lsr & LSR_DR) this.lsr |= LSR_OE;
      this.rbr = b;
      this.lsr |= LSR_DR;
    }
    this.updateIrq();
  }

  /** Moves host input into the receiver while there is room (never overruns). */
  private drainInput(): void {
    if (this.mcr & MCR_LOOP) return; // the serial input is disconnected in loopback
    while (this.pendingInput.length > 0) {
      const room = this.fifoEnabled() ? this.rxCount < FIFO_SIZE : !(this.lsr & LSR_DR);
      if (!room) break;
      this.receiveByte(this.pendingInput.shift()!);
    }
  }

  private armTimeout(): void {
    this.timeoutDeadlineNs = this.clock.nowNs() + 4 * this.charTimeNs;
  }

  private updateCharTime(): void {
    // Frame: start bit, 5-8 data bits, optional parity, 1 or 2 stop bits (LCR bits 0-3).
    const bits = 1 + (this.lcr & 3) + 5 + ((this.lcr & 0x08) ? 1 : 0) + ((this.lcr & 0x04) ? 2 : 1);
    // QEMU treats divisor 0 as about 3500 baud.
    const baud = this.divisor === 0 ? 3500 : BAUD_BASE / this.divisor;
    this.charTimeNs = Math.floor((1e9 / baud) * bits);
  }

  /**
   * Drives the IRQ line from the interrupt identification. Every update re-drives the
   * level, as QEMU does; the 8259's edge detector turns a repeated high into nothing.
   * (A PC routes the interrupt through MCR.OUT2; QEMU does not gate it, neither do we.)
   */
  private updateIrq(): void {
    this.irqLevel = this.interruptId() !== IIR_NO_INT;
    this.irqLines.setIrq(this.irq, this.irqLevel);
  }
}
