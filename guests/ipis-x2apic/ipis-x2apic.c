/*
 * ipis-x2apic: ipis with every APIC in x2APIC mode (x2APIC cluster logical addressing, the
 * SELF IPI register, 32-bit destinations). Default -smp 4, and a CPU that advertises the
 * x2APIC: `-cpu qemu64,+x2apic -accel kvm` (QEMU 7.2's TCG does not emulate it) or
 * Hyperstep's --x2apic. See ../ipis/ipis.c.
 */
#define IPIS_X2APIC 1
#include "../ipis/ipis.c"
