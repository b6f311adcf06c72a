// Decoding and validation of the interrupt command register (SDM vol. 3, "Interrupt
// Command Register (ICR)" and table "Valid Combinations for the Pentium 4 and Intel
// Xeon Processors' Local xAPIC Interrupt Command Register"; x2APIC: "Interrupt Command
// Register Operation in x2APIC Mode").
//
// The table, for the xAPIC (version 0x14) that we model:
//   shorthand        trigger  delivery modes                                  verdict
//   none             edge     all                                             valid
//   none             level    all                                             sent as edge (note 2)
//   self             edge     fixed                                           valid
//   self             level    fixed                                           sent as edge (note 2)
//   self             any      lowest, NMI, INIT, SMI, start-up                invalid
//   all incl. self   edge     fixed                                           valid
//   all incl. self   level    fixed                                           sent as edge (note 2)
//   all incl. self   any      lowest, NMI, INIT, SMI, start-up                invalid
//   all excl. self   edge     fixed, lowest, NMI, INIT, SMI, start-up         valid
//   all excl. self   level    fixed, lowest, NMI, INIT, SMI, start-up         sent as edge (note 2)
// Delivery modes 011 and 111 are reserved for IPIs: invalid.
// INIT with trigger=level and level=de-assert is the "INIT level de-assert" message of
// the P6 family (not supported by the Pentium 4, where it would become an INIT). QEMU,
// KVM and bhyve decode it as a de-assert and their receivers ignore it, which is what
// lets the Linux/MP-spec INIT, INIT-deassert, SIPI, SIPI sequence work; we do the same:
// it is sent as mode 'init-deassert' with any shorthand (the SDM says it goes to all
// processors and recommends the all-including-self shorthand) and the vmm ignores it.
import {
  DM_EXTINT, DM_FIXED, DM_INIT, DM_LOWEST, DM_NMI, DM_SMI, DM_STARTUP, ICR_DEST_LOGICAL, ICR_LEVEL_ASSERT,
  ICR_SHORTHAND_SHIFT, ICR_TRIGGER_LEVEL,
} from './registers';
import type { Ipi, IpiMode, Shorthand } from './types';

const SHORTHANDS: readonly Shorthand[] = ['none', 'self', 'all', 'all-but-self'];
const MODES: readonly (IpiMode | null)[] = ['fixed', 'lowest', 'smi', null, 'nmi', 'init', 'startup', null];

/** A decoded ICR: the IPI to send, or why the SDM's table rules it out. */
export interface IcrDecode {
  /** The message; null only when the delivery mode is reserved. */
  ipi: Ipi | null;
  /** null when the combination is valid. */
  illegal: string | null;
}

/**
 * Decodes an ICR value. `icrHigh` is bits 63:32 as written: in xAPIC mode the
 * destination is its top byte, in x2APIC mode all 32 bits.
 */
export function decodeIcr(icrLow: number, icrHigh: number, x2apic: boolean): IcrDecode {
  const lo = icrLow >>> 0;
  const hi = icrHigh >>> 0;
  const dm = (lo >>> 8) & 7;
  const levelAssert = (lo & ICR_LEVEL_ASSERT) !== 0;
  const levelTriggered = (lo & ICR_TRIGGER_LEVEL) !== 0;
  const shorthand = SHORTHANDS[(lo >>> ICR_SHORTHAND_SHIFT) & 3];
  let mode = MODES[dm];
  if (mode === null) {
    return { ipi: null, illegal: dm === DM_EXTINT ? 'ExtINT is not a valid IPI delivery mode' : 'reserved delivery mode 011' };
  }
  const deassert = dm === DM_INIT && levelTriggered && !levelAssert;
  if (deassert) mode = 'init-deassert';
  const ipi: Ipi = {
    vector: lo & 0xff,
    mode,
    destMode: lo & ICR_DEST_LOGICAL ? 'logical' : 'physical',
    level: levelAssert,
    trigger: deassert ? 'level' : 'edge',
    shorthand,
    dest: x2apic ? hi : hi >>> 24,
    x2apic,
    icrLow: lo,
    icrHigh: hi,
  };
  return { ipi, illegal: deassert ? null : tableVerdict(dm, shorthand) };
}

/** The "invalid" rows of the table; null for a valid combination. */
function tableVerdict(dm: number, shorthand: Shorthand): string | null {
  if ((shorthand === 'self' || shorthand === 'all') && dm !== DM_FIXED) {
    const name = dm === DM_LOWEST ? 'lowest priority' : dm === DM_SMI ? 'SMI' : dm === DM_NMI ? 'NMI' : dm === DM_INIT ? 'INIT' : dm === DM_STARTUP ? 'start-up' : `mode ${dm}`;
    return `${name} with the ${shorthand === 'self' ? 'self' : 'all-including-self'} shorthand`;
  }
  return null;
}

/** Builds the IPI an x2APIC SELF IPI write sends: fixed, edge, self (SDM "SELF IPI Register"). */
export function selfIpi(vector: number): Ipi {
  const icrLow = (vector & 0xff) | (1 << ICR_SHORTHAND_SHIFT);
  return {
    vector: vector & 0xff, mode: 'fixed', destMode: 'physical', level: true, trigger: 'edge',
    shorthand: 'self', dest: 0, x2apic: true, icrLow, icrHigh: 0,
  };
}

/** True for the modes that carry a vector the receiver latches in IRR (and that must be >= 16). */
export function carriesVector(mode: IpiMode): boolean {
  return mode === 'fixed' || mode === 'lowest';
}
