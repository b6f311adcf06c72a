// The x86 register file as an assembler names it: every name, its width, the 64-bit
// register it is part of (its "family", so EAX and AL are known to overlap), and a
// one-line description for hover (SDM vol. 1, 3.4 "Basic program execution registers";
// vol. 3, 2.5 "Control registers").

export type RegisterClass = 'gpr' | 'segment' | 'control' | 'debug' | 'ip' | 'vector' | 'mask' | 'mmx' | 'x87' | 'bound' | 'tile';

export interface RegisterInfo {
  /** Lowercase name as assemblers accept it (no % prefix). */
  name: string;
  cls: RegisterClass;
  /** Width in bits. */
  bits: number;
  /** The widest register this one is part of ("rax" for al, ah, ax, eax, rax). */
  family: string;
  /** For 8-bit high registers (ah, ch, dh, bh): bits 15:8 of the family. */
  high8?: boolean;
}

const TABLE = new Map<string, RegisterInfo>();

function add(name: string, cls: RegisterClass, bits: number, family = name, high8 = false): void {
  TABLE.set(name, { name, cls, bits, family, high8: high8 || undefined });
}

// General purpose: the legacy eight, in encoding order, then r8-r15.
const LEGACY = [
  ['rax', 'eax', 'ax', 'al', 'ah'], ['rcx', 'ecx', 'cx', 'cl', 'ch'], ['rdx', 'edx', 'dx', 'dl', 'dh'], ['rbx', 'ebx', 'bx', 'bl', 'bh'],
  ['rsp', 'esp', 'sp', 'spl'], ['rbp', 'ebp', 'bp', 'bpl'], ['rsi', 'esi', 'si', 'sil'], ['rdi', 'edi', 'di', 'dil'],
];
for (const [r64, r32, r16, r8, high] of LEGACY) {
  add(r64, 'gpr', 64); add(r32, 'gpr', 32, r64); add(r16, 'gpr', 16, r64); add(r8, 'gpr', 8, r64);
  if (high) add(high, 'gpr', 8, r64, true);
}
for (let i = 8; i < 16; i++) {
  const r = `r${i}`;
  add(r, 'gpr', 64); add(`${r}d`, 'gpr', 32, r); add(`${r}w`, 'gpr', 16, r); add(`${r}b`, 'gpr', 8, r); add(`${r}l`, 'gpr', 8, r);
}
add('rip', 'ip', 64); add('eip', 'ip', 32, 'rip'); add('ip', 'ip', 16, 'rip');
for (const s of ['es', 'cs', 'ss', 'ds', 'fs', 'gs']) add(s, 'segment', 16);
for (let i = 0; i < 16; i++) { add(`cr${i}`, 'control', 64); add(`dr${i}`, 'debug', 64); }
for (let i = 0; i < 32; i++) { add(`xmm${i}`, 'vector', 128, `zmm${i}`); add(`ymm${i}`, 'vector', 256, `zmm${i}`); add(`zmm${i}`, 'vector', 512); }
for (let i = 0; i < 8; i++) { add(`k${i}`, 'mask', 64); add(`mm${i}`, 'mmx', 64); add(`st${i}`, 'x87', 80); }
add('st', 'x87', 80, 'st0');
for (let i = 0; i < 4; i++) add(`bnd${i}`, 'bound', 128);
for (let i = 0; i < 8; i++) add(`tmm${i}`, 'tile', 8192);

/** The register called `name` (any case, with or without AT&T's %), or undefined. */
export function registerInfo(name: string): RegisterInfo | undefined {
  let n = name.toLowerCase();
  if (n.startsWith('%')) n = n.slice(1);
  return TABLE.get(n);
}

export function isRegister(name: string): boolean {
  return registerInfo(name) !== undefined;
}

/** Every register name, for completion. */
export function allRegisters(): RegisterInfo[] {
  return [...TABLE.values()];
}

/** The name of `family`'s register of `bits` width ("rcx", 32 -> "ecx"), for implicit operands. */
export function sized(family: string, bits: number): string {
  for (const r of TABLE.values()) if (r.family === family && r.bits === bits && !r.high8 && !(r.name.endsWith('l') && /^r\d/.test(r.name))) return r.name;
  return family;
}

const GPR_ROLE: Record<string, string> = {
  rax: 'accumulator: implicit operand of MUL/DIV, IN/OUT data, CPUID leaf, RDMSR/WRMSR low half',
  rcx: 'counter: REP and LOOP count, shift count (CL), RDMSR/WRMSR MSR number, CPUID sub-leaf',
  rdx: 'data: high half of MUL/DIV and RDMSR/WRMSR, I/O port number for IN/OUT',
  rbx: 'base: CPUID output, multiboot information pointer at entry',
  rsp: 'stack pointer',
  rbp: 'frame pointer',
  rsi: 'source index of string instructions (MOVS, LODS, OUTS)',
  rdi: 'destination index of string instructions (MOVS, STOS, INS)',
};

const CONTROL_ROLE: Record<string, string> = {
  cr0: 'system control flags: PE (protected mode), PG (paging), WP, NE, CD/NW caching, EM/MP/TS for the FPU (SDM vol. 3, 2.5)',
  cr2: 'page-fault linear address (SDM vol. 3, 2.5)',
  cr3: 'page-table root (PML4/PDPT/PD base) and PCID or PWT/PCD (SDM vol. 3, 2.5)',
  cr4: 'architecture extensions: PAE, PSE, PGE, OSFXSR, VMXE, SMEP, SMAP, PCIDE, ... (SDM vol. 3, 2.5)',
  cr8: 'task priority (64-bit mode): CR8[3:0] mirrors the local APIC TPR[7:4] (SDM vol. 3, 2.5 and 11.8.6)',
};

const SEGMENT_ROLE: Record<string, string> = {
  cs: 'code segment', ds: 'data segment (default for most memory operands)', ss: 'stack segment',
  es: 'extra segment (destination of string instructions)', fs: 'extra segment (per-CPU or thread data; base in IA32_FS_BASE)',
  gs: 'extra segment (per-CPU data in kernels; base in IA32_GS_BASE, swapped by SWAPGS)',
};

/** A short explanation of a register, for hover (markdown). */
export function describeRegister(r: RegisterInfo): string {
  const lines = [`**${r.name}** - ${r.bits}-bit ${CLASS_NAMES[r.cls]}`];
  if (r.cls === 'gpr') {
    if (r.family !== r.name) lines.push(r.high8 ? `bits 15:8 of ${r.family}` : `bits ${r.bits - 1}:0 of ${r.family}` + (r.bits === 32 ? ' (a write zero-extends to 64 bits in 64-bit mode)' : ''));
    const role = GPR_ROLE[r.family];
    if (role) lines.push(role);
  } else if (r.cls === 'control') {
    lines.push(CONTROL_ROLE[r.name] ?? 'reserved control register (#UD on access)');
  } else if (r.cls === 'segment') {
    lines.push(SEGMENT_ROLE[r.name]);
  } else if (r.cls === 'debug') {
    const n = Number(r.name.slice(2));
    lines.push(n <= 3 ? 'breakpoint linear address (SDM vol. 3, 18.2)' : n === 6 ? 'debug status (SDM vol. 3, 18.2.3)' : n === 7 ? 'debug control (SDM vol. 3, 18.2.4)' : 'reserved (DR4/DR5 alias DR6/DR7 when CR4.DE=0)');
  } else if (r.cls === 'vector' && r.family !== r.name) {
    lines.push(`low ${r.bits} bits of ${r.family}`);
  }
  return lines.join('\n\n');
}

const CLASS_NAMES: Record<RegisterClass, string> = {
  gpr: 'general-purpose register', segment: 'segment register', control: 'control register', debug: 'debug register',
  ip: 'instruction pointer', vector: 'SIMD register', mask: 'AVX-512 mask register', mmx: 'MMX register', x87: 'x87 stack register',
  bound: 'MPX bound register', tile: 'AMX tile register',
};
