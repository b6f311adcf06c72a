// Assembles the PC platform devices of QEMU's pc machine that a -kernel guest sees
// after SeaBIOS, registers them on the port bus and writes the ACPI tables.
// The IOAPIC and the local APICs are not here: they attach to `irq` when they exist;
// until then the CPU reads the 8259's INTR through pic.hasInterrupt()/acknowledge().
import { PortBus } from '../memory/bus';
import { EventStream } from '../trace/events';
import { AcpiLayout, buildAcpiTables } from './acpi';
import { Cmos, CMOS_PORT_INDEX } from './cmos';
import { DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE, DebugExit } from './debug-exit';
import { FW_CFG_PORT_DMA, FW_CFG_PORT_SEL, FwCfg, GuestRam } from './fw-cfg';
import { IsaIrqRouter } from './isa-irq';
import { POST_PORT, PostPort, SYSTEM_CONTROL_A, SYSTEM_CONTROL_B, SystemControlPortA, SystemControlPortB } from './misc-ports';
import { DualPic, ELCR_BASE, PIC_MASTER_BASE, PIC_SLAVE_BASE } from './pic';
import { Pit, PIT_PORT_BASE } from './pit';
import { TimedDevice, VirtualClock } from './types';
import { COM1_BASE, Uart16550 } from './uart16550';

export interface PlatformOptions {
  vcpus: number;
  ramBytes: number;
  clock: VirtualClock;
  onSerialByte(b: number): void;
  onDebugExit(status: number): void;
  onReset(): void;
  /** Date the RTC shows at virtual time 0 (ms since 1970, UTC); default 2026-01-01. */
  rtcEpochMs?: number;
}

export interface Platform {
  uart: Uart16550;
  debugExit: DebugExit;
  fwCfg: FwCfg;
  cmos: Cmos;
  pit: Pit;
  pic: DualPic;
  /** ISA IRQ lines 0-15: the devices drive them, the PIC (and later the IOAPIC) listen. */
  irq: IsaIrqRouter;
  post: PostPort;
  systemControlA: SystemControlPortA;
  systemControlB: SystemControlPortB;
  /** Devices the scheduler must wake at their deadlines. */
  timedDevices: TimedDevice[];
  acpi: AcpiLayout;
}

export function installPlatform(ports: PortBus, ram: GuestRam, events: EventStream, opts: PlatformOptions): Platform {
  const { vcpus, ramBytes, clock } = opts;
  const irq = new IsaIrqRouter();
  const pic = new DualPic();
  irq.attach(pic);

  const pit = new Pit(irq, clock);
  const cmos = new Cmos({ irqLines: irq, clock, vcpus, ramBytes, epochMs: opts.rtcEpochMs });
  const uart = new Uart16550({ irqLines: irq, clock, events, onTransmit: opts.onSerialByte });
  const debugExit = new DebugExit(opts.onDebugExit);
  const fwCfg = new FwCfg({ vcpus, ramBytes }, ram);
  const post = new PostPort();
  const systemControlA = new SystemControlPortA(opts.onReset);
  const systemControlB = new SystemControlPortB(pit, clock);

  ports.register(PIC_MASTER_BASE, 2, pic);
  ports.register(PIC_SLAVE_BASE, 2, pic);
  ports.register(ELCR_BASE, 2, pic);
  ports.register(PIT_PORT_BASE, 4, pit);
  ports.register(SYSTEM_CONTROL_B, 1, systemControlB);
  ports.register(CMOS_PORT_INDEX, 2, cmos);
  ports.register(POST_PORT, 1, post);
  ports.register(SYSTEM_CONTROL_A, 1, systemControlA);
  ports.register(DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE, debugExit);
  ports.register(COM1_BASE, 8, uart);
  ports.register(FW_CFG_PORT_SEL, 2, fwCfg);
  ports.register(FW_CFG_PORT_DMA, 8, fwCfg);

  const acpi = buildAcpiTables(ram, { vcpus, ramBytes });
  return {
    uart, debugExit, fwCfg, cmos, pit, pic, irq, post, systemControlA, systemControlB,
    timedDevices: [pit, cmos, uart],
    acpi,
  };
}
