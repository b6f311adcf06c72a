// I/O ports of the PC platform Hyperstep (and QEMU's pc machine) gives a guest. Port
// numbers come from the core's device models (core/devices/*); the descriptions are ours.
import { COM1_BASE } from '../../core/devices/uart16550';
import { DEBUG_EXIT_BASE, DEBUG_EXIT_SIZE } from '../../core/devices/debug-exit';
import { FW_CFG_PORT_DATA, FW_CFG_PORT_DMA, FW_CFG_PORT_SEL } from '../../core/devices/fw-cfg';
import { ELCR_BASE, PIC_MASTER_BASE, PIC_SLAVE_BASE } from '../../core/devices/pic';
import { PIT_PORT_BASE, PIT_PORT_CONTROL } from '../../core/devices/pit';
import { CMOS_PORT_DATA, CMOS_PORT_INDEX } from '../../core/devices/cmos';
import { POST_PORT, SYSTEM_CONTROL_A, SYSTEM_CONTROL_B } from '../../core/devices/misc-ports';
import { hex } from '../documents/numbers';

const UART_REGS = [
  'RBR (read) / THR (write); DLL when LCR.DLAB=1', 'IER interrupt enable; DLM when LCR.DLAB=1', 'IIR (read) / FCR FIFO control (write)',
  'LCR line control (bit 7 DLAB)', 'MCR modem control (bit 3 OUT2 gates the IRQ)', 'LSR line status (bit 5 THR empty, bit 0 data ready)',
  'MSR modem status', 'SCR scratch',
];

/** What an I/O port is on this platform, or undefined. */
export function describePort(port: number): string | undefined {
  const p = port & 0xffff;
  if (p >= COM1_BASE && p < COM1_BASE + 8) return `**COM1 + ${p - COM1_BASE}** (port ${hex(p)}): 16550 UART ${UART_REGS[p - COM1_BASE]}. IRQ 4. Hyperstep's serial output.`;
  if (p >= DEBUG_EXIT_BASE && p < DEBUG_EXIT_BASE + DEBUG_EXIT_SIZE) return `**isa-debug-exit** (port ${hex(p)}): writing v ends the VM with exit status (v << 1) | 1, as QEMU's -device isa-debug-exit,iobase=0xf4.`;
  if (p === FW_CFG_PORT_SEL) return `**fw_cfg selector** (port ${hex(p)}): a 16-bit write selects an item (0x00 signature "QEMU", 0x03 RAM size, 0x05 CPU count) and rewinds it.`;
  if (p === FW_CFG_PORT_DATA) return `**fw_cfg data** (port ${hex(p)}): reads the selected item byte by byte.`;
  if (p >= FW_CFG_PORT_DMA && p < FW_CFG_PORT_DMA + 8) return `**fw_cfg DMA address** (port ${hex(p)}): big-endian address of a DMA descriptor.`;
  if (p === PIC_MASTER_BASE || p === PIC_SLAVE_BASE) return `**8259 PIC ${p === PIC_MASTER_BASE ? 'master' : 'slave'} command** (port ${hex(p)}): ICW1 (bit 4 set), OCW2 (EOI: 0x20), OCW3 (read IRR/ISR).`;
  if (p === PIC_MASTER_BASE + 1 || p === PIC_SLAVE_BASE + 1) return `**8259 PIC ${p === PIC_MASTER_BASE + 1 ? 'master' : 'slave'} data** (port ${hex(p)}): ICW2-ICW4 during initialisation, then the interrupt mask (OCW1; 0xFF masks every line, as before using the APICs).`;
  if (p === ELCR_BASE || p === ELCR_BASE + 1) return `**ELCR** (port ${hex(p)}): edge/level control of ISA IRQs ${p === ELCR_BASE ? '0-7' : '8-15'}.`;
  if (p >= PIT_PORT_BASE && p < PIT_PORT_CONTROL) return `**8254 PIT channel ${p - PIT_PORT_BASE}** (port ${hex(p)}): counter${p === PIT_PORT_BASE ? ' 0 drives IRQ 0' : p === PIT_PORT_BASE + 2 ? ' 2 gated by port 0x61 bit 0 (speaker / calibration)' : ''}. 1.193182 MHz.`;
  if (p === PIT_PORT_CONTROL) return `**8254 PIT mode/command** (port ${hex(p)}): channel (7:6), access (5:4), mode (3:1), BCD (0).`;
  if (p === CMOS_PORT_INDEX) return `**CMOS/RTC index** (port ${hex(p)}): bits 6:0 select the register; bit 7 disables NMI.`;
  if (p === CMOS_PORT_DATA) return `**CMOS/RTC data** (port ${hex(p)}).`;
  if (p === POST_PORT) return `**POST code** (port ${hex(p)}): writes are accepted and ignored; the classic I/O delay port.`;
  if (p === SYSTEM_CONTROL_A) return `**System control port A** (port ${hex(p)}): bit 1 A20 gate, bit 0 fast reset.`;
  if (p === SYSTEM_CONTROL_B) return `**System control port B** (port ${hex(p)}): bit 0 PIT channel 2 gate, bit 1 speaker, bit 5 PIT channel 2 output.`;
  if (p === 0xcf8 || p === 0xcfc) return `**PCI configuration ${p === 0xcf8 ? 'address' : 'data'}** (port ${hex(p)}): not modelled by Hyperstep.`;
  return undefined;
}
