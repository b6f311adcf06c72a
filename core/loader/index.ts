// Image loaders: put a guest image into RAM and say how the boot vCPU starts.
//
// Formats (LoadOptions.format):
// - 'multiboot': multiboot v1, exactly as QEMU 7.2's -kernel (multiboot.ts): an ELF32 kernel
//   loaded by program headers at p_paddr, or any file with the a.out kludge (header flag
//   bit 16). A multiboot ELF64 without the kludge is refused, as QEMU refuses it.
// - 'elf': an ELF entered directly at e_entry, no multiboot information: ELF64 in long mode
//   (our convenience, QEMU -kernel has none) or ELF32 in flat protected mode.
// - 'flat': raw bytes at flatAddress, entered at flatEntry in flatMode.
// - 'auto' (default): a multiboot header (on a 4-byte boundary in the first 8 KiB, valid
//   checksum) makes it multiboot; a magic whose checksum is wrong, with no valid header, is an
//   error (QEMU would silently try its Linux loader); otherwise an ELF64 is loaded as 'elf'. A plain ELF32 is
//   refused, as QEMU refuses it ("Error loading uncompressed kernel without PVH ELF Note"):
//   add a multiboot header or ask for format 'elf'. Anything else is an error unless flat
//   options (flatAddress, flatMode or flatEntry) say it is a flat binary.
import { hasElfMagic, parseElfHeader, readElfSymbols } from './elf';
import { badChecksumMessage, findMultibootHeader, loadMultiboot } from './multiboot';
import { loadElfDirect, loadFlat } from './direct';
import { ByteReader, RamWriter, hex } from './placement';
import { BootState, GuestRam, LoadOptions, LoadedImage, LoaderError } from './types';

export * from './types';
export { readElfSymbols } from './elf';
export { E820Entry, E820_RAM, E820_RESERVED, qemuE820, multibootMemUpperKiB, encodeMultibootMmap, MULTIBOOT_MEM_LOWER_KIB } from './memory-map';
export { MULTIBOOT_BOOTLOADER_MAGIC, MULTIBOOT_INFO_ADDR, MULTIBOOT_MMAP_ADDR, findMultibootHeader } from './multiboot';
export { LONG_MODE_AREA_START, LONG_MODE_AREA_END, LONG_MODE_PML4, LONG_MODE_GDT_BASE, LONG_MODE_STACK_TOP, PROTECTED_GDT_BASE } from './cpu-tables';

/** The Linux boot protocol signature "HdrS" at 0x202 (Documentation/x86/boot.rst). */
const LINUX_HDRS = 0x53726448;

export function loadImage(bytes: Uint8Array, ram: GuestRam, opts: LoadOptions = {}): LoadedImage {
  if (bytes.length === 0) throw new LoaderError('image: the file is empty');
  const w = new RamWriter(ram);
  const warnings: string[] = [];
  let format: LoadedImage['format'];
  let boot: BootState;
  const requested = opts.format ?? 'auto';
  const multiboot = () => {
    const found = findMultibootHeader(bytes);
    if (!found.found) {
      if (found.badChecksumAt) throw new LoaderError(badChecksumMessage(found.badChecksumAt));
      throw new LoaderError(
        `multiboot header: none found (magic ${hex(0x1badb002)} on a 4-byte boundary in the first 8192 bytes with magic+flags+checksum zero)`,
      );
    }
    const r = loadMultiboot(bytes, w, found, opts);
    warnings.push(...r.warnings);
    return r;
  };
  switch (requested) {
    case 'multiboot':
      ({ format, boot } = multiboot());
      break;
    case 'elf':
      ({ format, boot } = loadElfDirect(bytes, w));
      break;
    case 'flat':
      format = 'flat';
      boot = loadFlat(bytes, w, opts);
      break;
    case 'auto': {
      if (bytes.length >= 0x206 && new ByteReader(bytes).u32(0x202) === LINUX_HDRS) {
        throw new LoaderError('image: a Linux boot protocol kernel ("HdrS" at 0x202); QEMU boots it with its Linux loader, which Hyperstep does not have');
      }
      const found = findMultibootHeader(bytes);
      if (found.found || found.badChecksumAt) {
        ({ format, boot } = multiboot());
      } else if (hasElfMagic(bytes)) {
        const h = parseElfHeader(bytes);
        if (h.elfClass === 32) {
          throw new LoaderError(
            'ELF header: an ELF32 file without a multiboot header; QEMU -kernel refuses it too ' +
              '("Error loading uncompressed kernel without PVH ELF Note"): add a multiboot header, or load it with format \'elf\' to enter e_entry in protected mode',
          );
        }
        ({ format, boot } = loadElfDirect(bytes, w));
      } else if (opts.flatAddress !== undefined || opts.flatMode !== undefined || opts.flatEntry !== undefined) {
        format = 'flat';
        boot = loadFlat(bytes, w, opts);
      } else {
        throw new LoaderError(
          "image: neither a multiboot header in the first 8192 bytes nor an ELF header (7f 45 4c 46); for a flat binary pass format 'flat' or flatAddress/flatMode",
        );
      }
      break;
    }
    default:
      throw new LoaderError(`image: unknown format '${String(requested)}', expected auto, multiboot, elf or flat`);
  }
  let symbols: LoadedImage['symbols'] = [];
  if (hasElfMagic(bytes)) {
    try {
      symbols = readElfSymbols(bytes);
    } catch (e) {
      if (!(e instanceof LoaderError)) throw e;
      // The image booted; only its symbol table is broken. QEMU ignores it likewise.
      warnings.push(`symbols not read: ${e.message}`);
    }
  }
  return { format, boot, symbols, loaded: w.loaded(), warnings };
}
