// Destination matching for IPIs and I/O interrupt messages (SDM vol. 3, "Determining
// IPI Destination": physical, logical flat and cluster, "Logical Destination Mode in
// x2APIC Mode", "Lowest Priority Delivery Mode"). Pure functions of the target's
// registers, so the vmm resolves targets with them and can add fast paths (a physical
// unicast needs only an ID -> vCPU map: unicastPhysicalId()).
//
// Choices:
//  - A globally disabled APIC (IA32_APIC_BASE EN=0) is not on the bus: it matches no
//    destination, shorthands included (the processor behaves as one without an APIC).
//  - xAPIC-format messages (8-bit destination: xAPIC senders, the IOAPIC) reaching an
//    APIC in x2APIC mode: physical compares with the full x2APIC ID (so IDs < 255
//    work, as with QEMU's IOAPIC); 0xFF is a broadcast; logical matches only 0xFF.
//  - x2APIC-format messages reaching an APIC still in xAPIC mode (mixed modes are not
//    a valid configuration): 0xFFFFFFFF is a broadcast, otherwise the low 8 bits are
//    matched as an xAPIC destination.
//  - Cluster model: cluster 0xF matches every cluster ("Broadcast to all local APICs is
//    achieved by setting all destination bits to one. This guarantees a match on all
//    clusters"). A DFR model other than 0000b (cluster) is treated as flat.
//  - Lowest priority: the candidate with the lowest arbitration priority (the SDM's APR
//    formula) wins, ties going to the lowest APIC ID. The focus-processor rule of the
//    P6 family is not modelled (model specific on later processors), so the choice
//    depends only on priorities and IDs; with equal priorities it is the lowest ID,
//    which is also what QEMU 7.2 picks.
import type { LocalApic } from './lapic';
import type { DestMode, Ipi } from './types';

/** Whether `target` accepts a message addressed to `dest` in `destMode` (no shorthand). */
export function matchesDestination(target: LocalApic, dest: number, destMode: DestMode, x2apicFormat: boolean): boolean {
  const mode = target.mode();
  if (mode === 'disabled') return false;
  dest >>>= 0;
  if (x2apicFormat) {
    if (dest === 0xffffffff) return true;
    if (mode === 'xapic') return matchXapic(target, dest & 0xff, destMode);
    if (destMode === 'physical') return dest === target.apicId >>> 0;
    const ldr = target.logicalId();
    return dest >>> 16 === ldr >>> 16 && (dest & ldr & 0xffff) !== 0;
  }
  dest &= 0xff;
  if (dest === 0xff) return true;
  if (mode === 'x2apic') return destMode === 'physical' && dest === target.apicId >>> 0;
  return matchXapic(target, dest, destMode);
}

/** xAPIC physical (8-bit ID) and logical (flat or cluster by DFR) matching, broadcast excluded. */
function matchXapic(target: LocalApic, dest: number, destMode: DestMode): boolean {
  if (dest === 0xff) return true;
  if (destMode === 'physical') return dest === (target.apicId & 0xff);
  const logical = target.ldr >>> 24;
  if ((target.dfr >>> 28) !== 0) return (logical & dest) !== 0; // flat
  const cluster = dest >>> 4;
  return (cluster === 0xf || cluster === logical >>> 4) && (dest & logical & 0xf) !== 0;
}

/** Whether `target` is a destination of `ipi` sent by `src`, shorthands included. */
export function isIpiTarget(target: LocalApic, src: LocalApic, ipi: Ipi): boolean {
  if (target.mode() === 'disabled') return false;
  switch (ipi.shorthand) {
    case 'self': return target === src;
    case 'all': return true;
    case 'all-but-self': return target !== src;
    default: return matchesDestination(target, ipi.dest, ipi.destMode, ipi.x2apic);
  }
}

/**
 * The APIC ID a message is sent to when it is a physical unicast (no shorthand, not a
 * broadcast), else -1: the vmm then looks one vCPU up instead of scanning them all.
 */
export function unicastPhysicalId(dest: number, destMode: DestMode, x2apicFormat: boolean): number {
  if (destMode !== 'physical') return -1;
  dest >>>= 0;
  if (x2apicFormat) return dest === 0xffffffff ? -1 : dest;
  return (dest & 0xff) === 0xff ? -1 : dest & 0xff;
}

/** Lowest-priority arbitration among the matching APICs (see the note above); null if none. */
export function arbitrateLowestPriority(candidates: readonly LocalApic[]): LocalApic | null {
  let best: LocalApic | null = null;
  let bestPriority = 0;
  for (const c of candidates) {
    const p = c.arbitrationPriority();
    if (best === null || p < bestPriority || (p === bestPriority && c.apicId >>> 0 < best.apicId >>> 0)) {
      best = c;
      bestPriority = p;
    }
  }
  return best;
}
