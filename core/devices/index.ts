// Public entry of the PC platform devices.
export * from './types';
export * from './isa-irq';
export * from './uart16550';
export * from './debug-exit';
export * from './fw-cfg';
export * from './acpi';
export * from './cmos';
export * from './pit';
export * from './pic';
export * from './misc-ports';
export * from './platform';
