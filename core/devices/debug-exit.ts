// QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=0x4): a write
// of v asks the VM to exit with status (v << 1) | 1, so a guest can never exit with 0.
// Reads return 0 at every size (QEMU 7.2, checked with probes/probe.c).
import { AccessSize, PortDevice } from '../memory/bus';

export const DEBUG_EXIT_BASE = 0xf4;
export const DEBUG_EXIT_SIZE = 4;

export class DebugExit implements PortDevice {
  readonly name = 'isa-debug-exit';
  /** Status of the last exit request, or -1 when the guest has not asked. */
  lastStatus = -1;

  constructor(private readonly onExit: (status: number) => void) {}

  portRead(_port: number, _size: AccessSize): number {
    return 0;
  }

  portWrite(_port: number, size: AccessSize, value: number): void {
    // QEMU takes the value at the width written (outb 0xff exits with 0x1ff); the
    // status is the host process exit code, so the shift is done in 32 bits here.
    const v = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    this.lastStatus = ((v << 1) | 1) >>> 0;
    this.onExit(this.lastStatus);
  }
}
