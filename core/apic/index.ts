// Public entry of the interrupt controllers: one LocalApic per vCPU, one IoApic per VM,
// the ICR decoder and the destination helpers the vmm delivers with.
export * from './types';
export * from './registers';
export { decodeIcr, selfIpi, carriesVector } from './icr';
export type { IcrDecode } from './icr';
export { LocalApic, highestVector } from './lapic';
export type { LocalApicOptions } from './lapic';
export { ApicTimer, lvtTimerMode } from './timer';
export { matchesDestination, isIpiTarget, unicastPhysicalId, arbitrateLowestPriority } from './destination';
export * from './ioapic';
