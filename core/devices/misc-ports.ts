// Small ports a real guest touches (values checked on QEMU 7.2, probes/probe2.c):
//   0x80  POST code / I/O delay port: writes are accepted and remembered, reads 0xFF;
//   0x92  system control port A (PS/2): bit 1 = A20 gate, bit 0 = fast reset;
//   0x61  system control port B (AT): bit 0 = PIT channel 2 GATE, bit 1 = speaker data,
//         bit 4 = refresh toggle, bit 5 = PIT channel 2 OUT; other bits read 0.
import { AccessSize, PortDevice } from '../memory/bus';
import { Pit } from './pit';
import { VirtualClock } from './types';

export const POST_PORT = 0x80;
export const SYSTEM_CONTROL_A = 0x92;
export const SYSTEM_CONTROL_B = 0x61;

export class PostPort implements PortDevice {
  readonly name = 'post-port';
  /** Last byte written (a BIOS POST code, or a guest's delay write). */
  lastCode = 0;

  portRead(_port: number, size: AccessSize): number {
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  portWrite(_port: number, _size: AccessSize, value: number): void {
    this.lastCode = value & 0xff;
  }
}

/**
 * Port 0x92. A20 stays enabled whatever is written (our memory does not wrap at 1 MiB)
 * but the bit reads back as written; every bit reads back as written, as on QEMU. A
 * 0 -> 1 transition of bit 0 requests a CPU reset.
 */
export class SystemControlPortA implements PortDevice {
  readonly name = 'system-control-a';
  /** SeaBIOS enables A20 here before the guest runs. */
  value = 0x02;

  constructor(private readonly onReset: () => void) {}

  /** The A20 gate as the guest last set it (not applied: A20 is always on). */
  a20(): boolean {
    return (this.value & 0x02) !== 0;
  }

  portRead(_port: number, _size: AccessSize): number {
    return this.value;
  }

  portWrite(_port: number, _size: AccessSize, v: number): void {
    const old = this.value;
    this.value = v & 0xff;
    if ((v & 1) && !(old & 1)) this.onReset();
  }
}

/** DRAM refresh requests come every 15.085 us on a PC: 18 PIT input clocks. */
export const REFRESH_PERIOD_TICKS = 18;

/**
 * Port 0x61. The refresh bit toggles with virtual time (every 18 PIT clocks), so delay
 * loops that count toggles take the same virtual time on every run. (QEMU 7.2 instead
 * flips it on every read.)
 */
export class SystemControlPortB implements PortDevice {
  readonly name = 'system-control-b';
  /** Bits 0-1 as written: channel 2 gate, speaker data enable. */
  value = 0;

  constructor(private readonly pit: Pit, private readonly clock: VirtualClock) {}

  portRead(_port: number, _size: AccessSize): number {
    const refresh = Math.floor(Pit.ticksAt(this.clock.nowNs()) / REFRESH_PERIOD_TICKS) & 1;
    return (this.value & 3) | (refresh << 4) | (this.pit.out2() ? 0x20 : 0);
  }

  portWrite(_port: number, _size: AccessSize, v: number): void {
    this.value = v & 3;
    this.pit.setGate(2, (v & 1) !== 0);
  }
}
