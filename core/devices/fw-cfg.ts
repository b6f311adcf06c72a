// QEMU's firmware configuration device (fw_cfg) on its x86 I/O ports, as described
// in QEMU's docs/specs/fw_cfg.txt and checked on QEMU 7.2 (probes/probe.c, probe3.c):
//   0x510  selector: a 16-bit write selects an item and rewinds its offset;
//   0x511  data: each byte read returns the next byte of the item, 0 past its end;
//          (a byte read at 0x510 reads data too; every other width reads 0 and does
//          nothing, and data writes are ignored);
//   0x514  DMA address, big-endian: a 32-bit write at 0x514 sets the high half, one at
//          0x518 the low half and starts the transfer. Reads give "QEMU CFG".
// The guest sees the DMA bit in the ID item (QEMU 7.2 -kernel guests do, and its own
// multiboot option ROM uses it), so DMA is implemented rather than hidden.
import { AccessSize, PortDevice } from '../memory/bus';

export const FW_CFG_PORT_SEL = 0x510;
export const FW_CFG_PORT_DATA = 0x511;
export const FW_CFG_PORT_DMA = 0x514;

export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_MAX_CPUS = 0x0f;
export const FW_CFG_FILE_DIR = 0x19;
/** File items are numbered from here, in the order of their names. */
export const FW_CFG_FILE_FIRST = 0x20;

/** ID bits: traditional (port) interface, DMA interface. */
export const FW_CFG_VERSION = 0x01;
export const FW_CFG_VERSION_DMA = 0x02;

// FWCfgDmaAccess.control bits.
export const FW_CFG_DMA_CTL_ERROR = 0x01;
export const FW_CFG_DMA_CTL_READ = 0x02;
export const FW_CFG_DMA_CTL_SKIP = 0x04;
export const FW_CFG_DMA_CTL_SELECT = 0x08;
export const FW_CFG_DMA_CTL_WRITE = 0x10;

/** "QEMU CFG", returned by reads of the DMA register. */
const DMA_SIGNATURE = new TextEncoder().encode('QEMU CFG');
const FILE_NAME_SIZE = 56;
const FILE_ENTRY_SIZE = 64;

/** The guest-memory access fw_cfg DMA needs (PhysicalMemory fits). */
export interface GuestRam {
  readBytes(pa: number, len: number): Uint8Array;
  writeBytes(pa: number, bytes: Uint8Array): void;
}

export interface FwCfgOptions {
  vcpus: number;
  ramBytes: number;
  /** Extra named files for the directory (e.g. "etc/boot-fail-wait"). */
  files?: { name: string; data: Uint8Array }[];
}

export class FwCfg implements PortDevice {
  readonly name = 'fw_cfg';
  /** Selected item key. */
  selector = 0;
  /** Read position inside the selected item. */
  offset = 0;
  /** High half of the DMA descriptor address (set through 0x514). */
  dmaAddressHigh = 0;
  /** Items by key; fixed after construction (configuration, not state). */
  readonly items = new Map<number, Uint8Array>();

  constructor(opts: FwCfgOptions, private readonly ram: GuestRam) {
    this.items.set(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.items.set(FW_CFG_ID, le(FW_CFG_VERSION | FW_CFG_VERSION_DMA, 4));
    this.items.set(FW_CFG_RAM_SIZE, le(opts.ramBytes, 8));
    this.items.set(FW_CFG_NB_CPUS, le(opts.vcpus, 2));
    this.items.set(FW_CFG_MAX_CPUS, le(opts.vcpus, 2));
    const files = [...(opts.files ?? defaultFiles(opts.ramBytes))].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // FILE_DIR: a big-endian count, then {size BE32, select BE16, reserved 2, name[56]}.
    const dir = new Uint8Array(4 + FILE_ENTRY_SIZE * files.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, files.length, false);
    files.forEach((f, i) => {
      const key = FW_CFG_FILE_FIRST + i;
      const at = 4 + FILE_ENTRY_SIZE * i;
      dv.setUint32(at, f.data.length, false);
      dv.setUint16(at + 4, key, false);
      const name = new TextEncoder().encode(f.name);
      if (name.length >= FILE_NAME_SIZE) throw new Error(`fw_cfg file name too long: ${f.name}`);
      dir.set(name, at + 8);
      this.items.set(key, f.data);
    });
    this.items.set(FW_CFG_FILE_DIR, dir);
  }

  /** Selects an item, as a write to 0x510 does. */
  select(key: number): void {
    this.selector = key & 0xffff;
    this.offset = 0;
  }

  /** Reads the next data byte, as a byte read of 0x511 does. */
  readDataByte(): number {
    const item = this.items.get(this.selector);
    if (!item || this.offset >= item.length) return 0;
    return item[this.offset++];
  }

  portRead(port: number, size: AccessSize): number {
    if (port >= FW_CFG_PORT_DMA && port < FW_CFG_PORT_DMA + 8) {
      let v = 0;
      for (let i = 0; i < size && port - FW_CFG_PORT_DMA + i < 8; i++) v |= DMA_SIGNATURE[port - FW_CFG_PORT_DMA + i] << (8 * i);
      return v >>> 0;
    }
    if ((port === FW_CFG_PORT_SEL || port === FW_CFG_PORT_DATA) && size === 1) return this.readDataByte();
    return 0;
  }

  portWrite(port: number, size: AccessSize, value: number): void {
    if (port === FW_CFG_PORT_SEL && size === 2) {
      this.select(value);
    } else if (port === FW_CFG_PORT_DMA && size === 4) {
      this.dmaAddressHigh = bswap32(value);
    } else if (port === FW_CFG_PORT_DMA + 4 && size === 4) {
      const address = this.dmaAddressHigh * 0x1_0000_0000 + bswap32(value);
      this.dmaAddressHigh = 0;
      this.dmaTransfer(address);
    }
  }

  /** Runs one FWCfgDmaAccess {control BE32, length BE32, address BE64} at guest address `at`. */
  dmaTransfer(at: number): void {
    const desc = new DataView(this.ram.readBytes(at, 16).buffer);
    let control = desc.getUint32(0, false);
    let length = desc.getUint32(4, false);
    let address = desc.getUint32(8, false) * 0x1_0000_0000 + desc.getUint32(12, false);
    if (control & FW_CFG_DMA_CTL_SELECT) this.select(control >>> 16);
    const read = (control & FW_CFG_DMA_CTL_READ) !== 0;
    const write = !read && (control & FW_CFG_DMA_CTL_WRITE) !== 0;
    const skip = !read && !write && (control & FW_CFG_DMA_CTL_SKIP) !== 0;
    if (!read && !write && !skip) length = 0;
    let error = false;
    while (length > 0 && !error) {
      const item = this.items.get(this.selector);
      let n: number;
      if (!item || this.offset >= item.length) {
        // Past the end (or no item): reads fill zeroes; writes fail.
        n = length;
        if (read) error = !this.tryWrite(address, new Uint8Array(n));
        if (write) error = true;
      } else {
        n = Math.min(length, item.length - this.offset);
        if (read) error = !this.tryWrite(address, item.subarray(this.offset, this.offset + n));
        if (write) error = true; // every item here is read-only, as QEMU's are to a guest
        this.offset += n;
      }
      address += n;
      length -= n;
    }
    control = error ? FW_CFG_DMA_CTL_ERROR : 0;
    const done = new Uint8Array(4);
    new DataView(done.buffer).setUint32(0, control, false);
    this.tryWrite(at, done);
  }

  private tryWrite(pa: number, bytes: Uint8Array): boolean {
    try {
      this.ram.writeBytes(pa, bytes);
      return true;
    } catch (e) {
      if (e instanceof RangeError) return false;
      throw e;
    }
  }
}

/**
 * Files QEMU also lists that a small guest may look for: "etc/boot-fail-wait" (the
 * reboot timeout, -1 = never) and "etc/e820" (one RAM entry {base u64, length u64,
 * type u32} little-endian). QEMU 7.2 with its AMD-vendor default CPU also lists a
 * reserved range at 0xFD00000000 (the HyperTransport hole), which we leave out.
 */
export function defaultFiles(ramBytes: number): { name: string; data: Uint8Array }[] {
  const e820 = new Uint8Array(20);
  const dv = new DataView(e820.buffer);
  dv.setUint32(8, ramBytes % 0x1_0000_0000, true);
  dv.setUint32(12, Math.floor(ramBytes / 0x1_0000_0000), true);
  dv.setUint32(16, 1, true); // E820_RAM
  return [
    { name: 'etc/boot-fail-wait', data: le(0xffffffff, 4) },
    { name: 'etc/e820', data: e820 },
  ];
}

function le(v: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
