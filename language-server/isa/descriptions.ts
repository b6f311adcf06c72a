// One-line summaries of the instructions bring-up and interrupt code uses, in our own
// words after the SDM vol. 2 instruction reference. Operand forms and flags come from
// iced-x86's tables (instructions.ts); this file only says what each one is for.

export const DESCRIPTIONS: Record<string, string> = {
  // Data movement
  mov: 'Copies the source operand to the destination. To or from a control register (CR0-CR8) it is a privileged system instruction; to or from a debug register likewise.',
  movzx: 'Copies a byte or word to a wider register, filling the upper bits with zeros.',
  movsx: 'Copies a byte or word to a wider register, extending its sign bit.',
  movsxd: 'Copies a doubleword to a 64-bit register, extending its sign bit.',
  lea: 'Computes the effective address of the memory operand and stores it in the register; memory is not accessed.',
  xchg: 'Swaps two operands. With a memory operand the exchange is locked (atomic) without a LOCK prefix.',
  xadd: 'Exchanges the operands, then stores their sum in the destination; with LOCK, an atomic fetch-and-add.',
  cmpxchg: 'Compares the accumulator with the destination: if equal, stores the source in the destination (ZF=1); otherwise loads the destination into the accumulator (ZF=0). With LOCK, an atomic compare-and-swap.',
  cmpxchg8b: 'Compares EDX:EAX with the 64-bit memory operand and, if equal, stores ECX:EBX there; otherwise loads it into EDX:EAX.',
  cmpxchg16b: 'Compares RDX:RAX with the 128-bit memory operand and, if equal, stores RCX:RBX there; otherwise loads it into RDX:RAX.',
  push: 'Decrements the stack pointer and stores the operand at the new top of stack.',
  pop: 'Loads the top of stack into the operand and increments the stack pointer.',
  pushf: 'Pushes the FLAGS register.', pushfd: 'Pushes EFLAGS.', pushfq: 'Pushes RFLAGS.',
  popf: 'Pops into FLAGS (which bits change depends on CPL and IOPL).', popfd: 'Pops into EFLAGS (which bits change depends on CPL and IOPL).', popfq: 'Pops into RFLAGS (which bits change depends on CPL and IOPL).',
  pusha: 'Pushes the eight 16-bit general registers.', pushad: 'Pushes the eight 32-bit general registers.',
  popa: 'Pops the eight 16-bit general registers.', popad: 'Pops the eight 32-bit general registers.',
  cbw: 'Sign-extends AL into AX.', cwde: 'Sign-extends AX into EAX.', cdqe: 'Sign-extends EAX into RAX.',
  cwd: 'Sign-extends AX into DX:AX.', cdq: 'Sign-extends EAX into EDX:EAX.', cqo: 'Sign-extends RAX into RDX:RAX.',
  bswap: 'Reverses the byte order of a 32- or 64-bit register.',
  // Arithmetic and logic
  add: 'Adds the source to the destination.', adc: 'Adds the source and the carry flag to the destination.',
  sub: 'Subtracts the source from the destination.', sbb: 'Subtracts the source and the carry flag from the destination.',
  inc: 'Adds 1 to the operand; CF is not affected.', dec: 'Subtracts 1 from the operand; CF is not affected.',
  neg: "Replaces the operand with its two's complement.", cmp: 'Subtracts the source from the destination, sets the flags and discards the result.',
  mul: 'Unsigned multiply of the accumulator by the operand; the double-width product goes to (E/R)DX:(E/R)AX (AX for bytes).',
  imul: 'Signed multiply: one operand as MUL, or destination = destination (or source) times source (or immediate), truncated.',
  div: 'Unsigned divide of (E/R)DX:(E/R)AX (AX for bytes) by the operand: quotient in the accumulator, remainder in (E/R)DX (AH). #DE on a zero divisor or an overflowing quotient.',
  idiv: 'Signed divide, as DIV. #DE on a zero divisor or an overflowing quotient.',
  and: 'Bitwise AND of the operands into the destination; clears OF and CF.', or: 'Bitwise OR of the operands into the destination; clears OF and CF.',
  xor: 'Bitwise exclusive OR into the destination; clears OF and CF. XOR of a register with itself is the usual way to zero it.',
  not: "Inverts every bit of the operand (one's complement); no flags change.",
  test: 'Bitwise AND of the operands, setting the flags and discarding the result.',
  shl: 'Shifts left, filling with zeros; the last bit shifted out goes to CF.', sal: 'Same as SHL.',
  shr: 'Shifts right, filling with zeros; the last bit shifted out goes to CF.', sar: 'Shifts right, copying the sign bit; the last bit shifted out goes to CF.',
  rol: 'Rotates left; the bit rotated out of the top also goes to CF.', ror: 'Rotates right; the bit rotated out of the bottom also goes to CF.',
  rcl: 'Rotates left through the carry flag.', rcr: 'Rotates right through the carry flag.',
  shld: 'Shifts the destination left, filling from the top of the source.', shrd: 'Shifts the destination right, filling from the bottom of the source.',
  bt: 'Copies the selected bit of the destination to CF.', bts: 'Copies the selected bit to CF and sets it; with LOCK on memory, an atomic test-and-set.',
  btr: 'Copies the selected bit to CF and clears it.', btc: 'Copies the selected bit to CF and complements it.',
  bsf: 'Index of the lowest set bit of the source; ZF=1 and the destination undefined when the source is zero.',
  bsr: 'Index of the highest set bit of the source; ZF=1 and the destination undefined when the source is zero.',
  lzcnt: 'Counts leading zero bits.', tzcnt: 'Counts trailing zero bits.', popcnt: 'Counts set bits.',
  // Control flow
  jmp: 'Transfers control to the target. A far jump (ptr16:32 or m16:32) loads CS, which is how code switches to a new code segment, e.g. after setting CR0.PE.',
  call: 'Pushes the return address and jumps to the target.',
  ret: 'Pops the return address (and optionally releases more stack bytes) and jumps to it.',
  retf: 'Far return: pops the return address and CS.',
  iret: 'Returns from an interrupt: pops IP, CS and FLAGS (and SS:SP when returning to a lower privilege).',
  iretd: 'Returns from an interrupt or exception handler: pops EIP, CS and EFLAGS (and ESP, SS when changing privilege); re-enables NMIs blocked by a previous NMI.',
  iretq: 'Returns from an interrupt or exception handler in 64-bit mode: pops RIP, CS, RFLAGS, RSP and SS; re-enables NMIs blocked by a previous NMI.',
  loop: 'Decrements the count register and jumps if it is not zero; flags are unchanged.',
  loope: 'Decrements the count register and jumps if it is not zero and ZF=1.', loopne: 'Decrements the count register and jumps if it is not zero and ZF=0.',
  jecxz: 'Jumps if ECX is zero.', jrcxz: 'Jumps if RCX is zero.', jcxz: 'Jumps if CX is zero.',
  int: 'Software interrupt: calls the IDT handler of the given vector.', int3: 'Breakpoint trap (#BP, vector 3).', into: 'Raises #OF if OF=1 (not in 64-bit mode).',
  enter: 'Creates a stack frame for a procedure.', leave: 'Releases the stack frame: stack pointer = frame pointer, then pops the frame pointer.',
  syscall: 'Fast call to the kernel: RCX = return RIP, R11 = RFLAGS, jumps to IA32_LSTAR with CS/SS from IA32_STAR and RFLAGS masked by IA32_FMASK.',
  sysret: 'Fast return to user mode: RIP = RCX, RFLAGS = R11, CS/SS from IA32_STAR.', sysretq: 'Fast return to 64-bit user mode: RIP = RCX, RFLAGS = R11.',
  sysenter: 'Fast call to the kernel through IA32_SYSENTER_CS/ESP/EIP.', sysexit: 'Fast return to user mode after SYSENTER.',
  // String
  movsb: 'Copies a byte from [(E/R)SI] to ES:[(E/R)DI] and steps both by DF; with REP, (E/R)CX times.',
  movsw: 'Copies a word from [(E/R)SI] to ES:[(E/R)DI]; with REP, (E/R)CX times.',
  movsd: 'String form: copies a doubleword from [(E/R)SI] to ES:[(E/R)DI]; SSE2 form (with XMM operands): moves a scalar double.',
  movsq: 'Copies a quadword from [RSI] to [RDI]; with REP, RCX times.',
  stosb: 'Stores AL at ES:[(E/R)DI] and steps (E/R)DI; with REP, fills (E/R)CX bytes.', stosw: 'Stores AX at ES:[(E/R)DI]; with REP, (E/R)CX times.',
  stosd: 'Stores EAX at ES:[(E/R)DI]; with REP, (E/R)CX times.', stosq: 'Stores RAX at [RDI]; with REP, RCX times.',
  lodsb: 'Loads the byte at [(E/R)SI] into AL and steps (E/R)SI.', lodsw: 'Loads a word at [(E/R)SI] into AX.', lodsd: 'Loads a doubleword at [(E/R)SI] into EAX.', lodsq: 'Loads a quadword at [RSI] into RAX.',
  cmpsb: 'Compares the bytes at [(E/R)SI] and ES:[(E/R)DI]; with REPE/REPNE, a string compare.', scasb: 'Compares AL with the byte at ES:[(E/R)DI]; with REPNE, a search.',
  cld: 'Clears DF: string instructions step upwards.', std: 'Sets DF: string instructions step downwards.',
  // Flags
  clc: 'Clears CF.', stc: 'Sets CF.', cmc: 'Complements CF.',
  cli: 'Clears IF: maskable interrupts (from the local APIC, the PIC or the IOAPIC) are held off. NMIs and exceptions still arrive.',
  sti: 'Sets IF. Interrupts are recognised only after the next instruction (the STI interrupt shadow), so `sti; hlt` cannot lose a wake-up.',
  lahf: 'Loads SF, ZF, AF, PF, CF into AH.', sahf: 'Stores AH into SF, ZF, AF, PF, CF.',
  // System
  hlt: 'Stops the processor until an interrupt, NMI, SMI, INIT or reset arrives. Privileged (CPL 0). With IF=0 only NMI, SMI, INIT and reset wake it. A hypervisor usually intercepts it (VM exit HLT).',
  pause: 'Spin-wait hint: improves spin-loop performance and power. A hypervisor may exit on it (PAUSE exiting / pause-loop exiting).',
  nop: 'No operation.', ud2: 'Raises #UD (invalid opcode), on purpose.',
  cpuid: 'Returns processor identification and features for leaf EAX (and sub-leaf ECX) in EAX, EBX, ECX, EDX. Always causes a VM exit under VMX.',
  rdmsr: 'Reads the model-specific register numbered ECX into EDX:EAX. Privileged; #GP for an MSR that does not exist. MSRs 0x800-0x8FF are the x2APIC registers.',
  wrmsr: 'Writes EDX:EAX to the model-specific register numbered ECX. Privileged; #GP for an MSR that does not exist or a reserved bit. A write to 0x830 (x2APIC ICR) sends an IPI.',
  rdtsc: 'Reads the time-stamp counter into EDX:EAX.', rdtscp: 'Reads the time-stamp counter into EDX:EAX and IA32_TSC_AUX into ECX, after earlier instructions completed.',
  rdpmc: 'Reads the performance counter selected by ECX into EDX:EAX.',
  lgdt: 'Loads the GDTR (limit and base) from memory. Privileged.', lidt: 'Loads the IDTR (limit and base) from memory. Privileged.',
  sgdt: 'Stores the GDTR to memory.', sidt: 'Stores the IDTR to memory.', lldt: 'Loads the LDTR from a selector. Privileged.',
  ltr: 'Loads the task register from a TSS selector and marks the TSS busy. Privileged.', str: 'Stores the task register selector.',
  lmsw: 'Loads the low 4 bits of CR0 (PE, MP, EM, TS); cannot clear PE.', smsw: 'Stores the low bits of CR0.', clts: 'Clears CR0.TS.',
  invlpg: 'Invalidates the TLB entries for the page containing the memory operand, on this processor only (other CPUs need a TLB-shootdown IPI).',
  invpcid: 'Invalidates TLB entries by PCID, per the descriptor and type.',
  wbinvd: 'Writes back and invalidates every cache.', invd: 'Invalidates caches without writing back.',
  clflush: 'Flushes the cache line containing the address.',
  mfence: 'Orders every earlier load and store before every later one.', lfence: 'Orders loads; earlier instructions complete before later ones start.', sfence: 'Orders stores.',
  monitor: 'Arms address monitoring on the range at (E/R)AX, for MWAIT.', mwait: 'Waits for a write to the monitored range or an interrupt.',
  swapgs: 'Exchanges the GS base with IA32_KERNEL_GS_BASE (64-bit mode, CPL 0).',
  in: 'Reads from an I/O port (an immediate 0-255 or DX) into AL, AX or EAX. Subject to IOPL and the I/O permission bitmap; a hypervisor sees an I/O exit.',
  out: 'Writes AL, AX or EAX to an I/O port (an immediate 0-255 or DX). Subject to IOPL and the I/O permission bitmap; a hypervisor sees an I/O exit.',
  insb: 'Reads a byte from port DX into ES:[(E/R)DI].', outsb: 'Writes the byte at [(E/R)SI] to port DX.',
  vmcall: 'Calls the hypervisor (VM exit with reason VMCALL).', vmmcall: 'Calls the hypervisor (AMD SVM).',
  xsave: 'Saves the processor state components selected by XCR0 & EDX:EAX.', xrstor: 'Restores the state components saved by XSAVE.',
  fxsave: 'Saves the x87, MMX and SSE state (512 bytes).', fxrstor: 'Restores the x87, MMX and SSE state.',
  xgetbv: 'Reads the extended control register ECX (XCR0) into EDX:EAX.', xsetbv: 'Writes EDX:EAX to the extended control register ECX. Privileged.',
  rdfsbase: 'Reads the FS base.', wrfsbase: 'Writes the FS base.', rdgsbase: 'Reads the GS base.', wrgsbase: 'Writes the GS base.',
  endbr64: 'Marks a valid indirect branch target (CET); a NOP otherwise.', endbr32: 'Marks a valid indirect branch target (CET); a NOP otherwise.',
};

/** Condition codes, for the Jcc / SETcc / CMOVcc families. */
const CONDITIONS: Record<string, string> = {
  o: 'overflow (OF=1)', no: 'not overflow (OF=0)', b: 'below, unsigned (CF=1)', c: 'carry (CF=1)', nae: 'not above or equal (CF=1)',
  ae: 'above or equal, unsigned (CF=0)', nb: 'not below (CF=0)', nc: 'no carry (CF=0)', e: 'equal (ZF=1)', z: 'zero (ZF=1)',
  ne: 'not equal (ZF=0)', nz: 'not zero (ZF=0)', be: 'below or equal, unsigned (CF=1 or ZF=1)', na: 'not above (CF=1 or ZF=1)',
  a: 'above, unsigned (CF=0 and ZF=0)', nbe: 'not below or equal (CF=0 and ZF=0)', s: 'sign (SF=1)', ns: 'not sign (SF=0)',
  p: 'parity even (PF=1)', pe: 'parity even (PF=1)', np: 'parity odd (PF=0)', po: 'parity odd (PF=0)', l: 'less, signed (SF!=OF)',
  nge: 'not greater or equal (SF!=OF)', ge: 'greater or equal, signed (SF=OF)', nl: 'not less (SF=OF)', le: 'less or equal, signed (ZF=1 or SF!=OF)',
  ng: 'not greater (ZF=1 or SF!=OF)', g: 'greater, signed (ZF=0 and SF=OF)', nle: 'not less or equal (ZF=0 and SF=OF)',
};

/** The summary of a mnemonic (lowercase, Intel name), if we have one. */
export function describeMnemonic(m: string): string | undefined {
  if (DESCRIPTIONS[m]) return DESCRIPTIONS[m];
  for (const [prefix, what] of [['j', 'Jumps if'], ['set', 'Sets the byte operand to 1 if'], ['cmov', 'Moves the source to the destination if']] as const) {
    if (m.startsWith(prefix) && CONDITIONS[m.slice(prefix.length)]) return `${what} ${CONDITIONS[m.slice(prefix.length)]}, else ${prefix === 'j' ? 'falls through' : prefix === 'set' ? 'to 0' : 'leaves it unchanged'}.`;
  }
  return undefined;
}
