/*
 * ipi-pingpong-x2apic: ipi-pingpong with both APICs in x2APIC mode. Run with -smp 2 and a
 * CPU that advertises the x2APIC: `-cpu qemu64,+x2apic -accel kvm` (QEMU 7.2's TCG does not
 * emulate it) or Hyperstep's --x2apic. See ../ipi-pingpong/ipi-pingpong.c.
 */
#define PINGPONG_X2APIC 1
#include "../ipi-pingpong/ipi-pingpong.c"
