/*
 * Native runner of the instruction-semantics differential suite (test/core/cpu/native).
 *
 * Reads fixed-size case records from stdin, runs each case's single instruction on this CPU with
 * all general registers and RFLAGS loaded from the record, and writes the resulting registers,
 * RFLAGS and the exception vector (if the instruction faulted) to stdout. Everything runs in one
 * process: the instruction is copied into an executable page between a load trampoline (hs_run)
 * and a store trampoline (hs_epilogue), both of which reach memory only RIP-relative, so every GPR
 * is free for the case.
 *
 * RSP stays the real stack pointer while the case runs (the generator never uses it as an
 * operand); the reported RSP is the case's input RSP plus whatever the instruction moved it by.
 * Faults (#DE from DIV/IDIV, or #UD/#GP from a bad encoding) arrive as signals; the handler takes
 * the registers at the fault from the signal context, the vector from the trap number, and
 * siglongjmps back to the loop.
 *
 * 32-bit cases run in compatibility mode: a far jump to Linux's 32-bit user code selector (0x23)
 * enters the instruction, a far jump back to 0x33 leaves it. The code page is mapped below 4 GiB
 * so 32-bit offsets reach it. Leaving compatibility mode can clear the upper halves of the GPRs,
 * RSP included (SDM vol. 1, 3.4.1.1: they are undefined), so the epilogue reloads RSP before it
 * touches the stack and signal handlers run on an alternate stack.
 *
 * Usage: harness < cases.bin > results.bin      harness --features (prints CPUID bits as JSON)
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* Must match native.ts. */
struct case_in {
  uint8_t code[16];
  uint8_t len;
  uint8_t bits; /* 64, or 32 for compatibility mode */
  uint8_t pad[6];
  uint64_t gpr[16]; /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
  uint64_t rflags;
};

struct case_out {
  uint64_t gpr[16];
  uint64_t rflags;
  int32_t fault; /* exception vector, -1 for none */
  uint32_t pad;
};

_Static_assert(sizeof(struct case_in) == 160, "case_in layout");
_Static_assert(sizeof(struct case_out) == 144, "case_out layout");

/* Shared with the trampolines below; they address these RIP-relative. */
__attribute__((used)) uint64_t hs_state[17]; /* 16 GPRs, then RFLAGS */
__attribute__((used)) uint64_t hs_saved_rsp;  /* RSP of hs_run after saving callee-saved regs */
__attribute__((used)) uint64_t hs_case_rsp;   /* RSP right after the instruction */
__attribute__((used)) void *hs_code;          /* where the case's instruction starts */

void hs_run(void);
void hs_epilogue(void);

__asm__(
    ".text\n"
    ".globl hs_run\n"
    "hs_run:\n"
    "  push %rbp\n  push %rbx\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    "  mov %rsp, hs_saved_rsp(%rip)\n"
    "  pushq hs_state+128(%rip)\n"
    "  popfq\n"
    "  mov hs_state+0(%rip), %rax\n"
    "  mov hs_state+8(%rip), %rcx\n"
    "  mov hs_state+16(%rip), %rdx\n"
    "  mov hs_state+24(%rip), %rbx\n"
    "  mov hs_state+40(%rip), %rbp\n"
    "  mov hs_state+48(%rip), %rsi\n"
    "  mov hs_state+56(%rip), %rdi\n"
    "  mov hs_state+64(%rip), %r8\n"
    "  mov hs_state+72(%rip), %r9\n"
    "  mov hs_state+80(%rip), %r10\n"
    "  mov hs_state+88(%rip), %r11\n"
    "  mov hs_state+96(%rip), %r12\n"
    "  mov hs_state+104(%rip), %r13\n"
    "  mov hs_state+112(%rip), %r14\n"
    "  mov hs_state+120(%rip), %r15\n"
    "  jmp *hs_code(%rip)\n"
    ".globl hs_epilogue\n"
    "hs_epilogue:\n"
    "  mov %rax, hs_state+0(%rip)\n"
    "  mov %rcx, hs_state+8(%rip)\n"
    "  mov %rdx, hs_state+16(%rip)\n"
    "  mov %rbx, hs_state+24(%rip)\n"
    "  mov %rbp, hs_state+40(%rip)\n"
    "  mov %rsi, hs_state+48(%rip)\n"
    "  mov %rdi, hs_state+56(%rip)\n"
    "  mov %r8, hs_state+64(%rip)\n"
    "  mov %r9, hs_state+72(%rip)\n"
    "  mov %r10, hs_state+80(%rip)\n"
    "  mov %r11, hs_state+88(%rip)\n"
    "  mov %r12, hs_state+96(%rip)\n"
    "  mov %r13, hs_state+104(%rip)\n"
    "  mov %r14, hs_state+112(%rip)\n"
    "  mov %r15, hs_state+120(%rip)\n"
    "  mov %rsp, hs_case_rsp(%rip)\n"
    "  mov hs_saved_rsp(%rip), %rsp\n"
    "  pushfq\n"
    "  popq hs_state+128(%rip)\n"
    "  cld\n" /* a case may have run STD; the C code below assumes DF=0 */
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  pop %rbp\n"
    "  ret\n");

/* Code page layout. */
#define ENTRY32 0x00 /* 64-bit: ljmp *far32(%rip) into compatibility mode */
#define FAR32 0x40   /* m16:32 far pointer to INSN at selector 0x23 */
#define INSN 0x80    /* the case's instruction, then the way back */
#define BACK64 0xc0  /* 64-bit: jmp *[rip+0] to hs_epilogue, reached from 32-bit code */
#define USER_CS32 0x23
#define USER_CS64 0x33

static uint8_t *page;
static sigjmp_buf fault_jmp;
static volatile int32_t fault_vector;

static void on_fault(int sig, siginfo_t *info, void *ctx) {
  (void)info;
  greg_t *r = ((ucontext_t *)ctx)->uc_mcontext.gregs;
  uint64_t rip = (uint64_t)r[REG_RIP];
  if (rip < (uint64_t)(uintptr_t)page || rip >= (uint64_t)(uintptr_t)page + 4096) {
    /* Not the case's instruction: a bug in this harness. Die with the default action. */
    signal(sig, SIG_DFL);
    return;
  }
  static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
  for (int i = 0; i < 16; i++) hs_state[i] = (uint64_t)r[order[i]];
  hs_case_rsp = (uint64_t)r[REG_RSP];
  hs_state[16] = (uint64_t)r[REG_EFL];
  fault_vector = (int32_t)r[REG_TRAPNO];
  siglongjmp(fault_jmp, 1);
}

static int print_features(void) {
  unsigned a, b, c, d;
  unsigned max = __get_cpuid_max(0, NULL), maxext = __get_cpuid_max(0x80000000, NULL);
  int popcnt = 0, bmi1 = 0, abm = 0, lahf = 0;
  char vendor[13] = {0};
  __cpuid(0, a, b, c, d);
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  if (max >= 1) {
    __cpuid(1, a, b, c, d);
    popcnt = (c >> 23) & 1;
  }
  if (max >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    bmi1 = (b >> 3) & 1;
  }
  if (maxext >= 0x80000001) {
    __cpuid(0x80000001, a, b, c, d);
    lahf = c & 1;
    abm = (c >> 5) & 1;
  }
  printf("{\"vendor\":\"%s\",\"popcnt\":%d,\"tzcnt\":%d,\"lzcnt\":%d,\"lahf64\":%d}\n", vendor, popcnt, bmi1, abm, lahf);
  return 0;
}

static uint8_t *read_all(size_t *len) {
  size_t cap = 1 << 20, n = 0;
  uint8_t *buf = malloc(cap);
  for (;;) {
    if (n == cap) buf = realloc(buf, cap *= 2);
    size_t got = fread(buf + n, 1, cap - n, stdin);
    if (got == 0) break;
    n += got;
  }
  *len = n;
  return buf;
}

/* "jmp qword [rip+0]; dq hs_epilogue": leaves the case without touching a GPR or a flag. */
static void put_jmp_epilogue(uint8_t *at) {
  static const uint8_t jmp_abs[6] = {0xff, 0x25, 0, 0, 0, 0};
  uint64_t target = (uint64_t)&hs_epilogue;
  memcpy(at, jmp_abs, sizeof jmp_abs);
  memcpy(at + sizeof jmp_abs, &target, 8);
}

/* Runs one case. Kept apart from main so nothing live across sigsetjmp is modified before a fault. */
static void run_one(const struct case_in *c, struct case_out *o) {
  memcpy(page + INSN, c->code, c->len);
  if (c->bits == 32) {
    /* Back to 64-bit code: "jmp far 0x33:page+BACK64" (EA ptr16:32). */
    uint8_t *tail = page + INSN + c->len;
    uint32_t back = (uint32_t)(uintptr_t)(page + BACK64);
    uint16_t cs64 = USER_CS64;
    tail[0] = 0xea;
    memcpy(tail + 1, &back, 4);
    memcpy(tail + 5, &cs64, 2);
    hs_code = page + ENTRY32;
  } else {
    put_jmp_epilogue(page + INSN + c->len);
    hs_code = page + INSN;
  }

  memcpy(hs_state, c->gpr, sizeof c->gpr);
  hs_state[16] = c->rflags;
  fault_vector = -1;
  if (sigsetjmp(fault_jmp, 1) == 0) hs_run();

  memcpy(o->gpr, hs_state, sizeof o->gpr);
  /* In compatibility mode only ESP is meaningful. */
  int64_t moved = c->bits == 32 ? (int64_t)(int32_t)(uint32_t)(hs_case_rsp - hs_saved_rsp) : (int64_t)(hs_case_rsp - hs_saved_rsp);
  o->gpr[4] = c->gpr[4] + (uint64_t)moved;
  o->rflags = hs_state[16];
  o->fault = fault_vector;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--features") == 0) return print_features();

  size_t len;
  uint8_t *in = read_all(&len);
  if (len % sizeof(struct case_in) != 0) {
    fprintf(stderr, "harness: input size %zu is not a multiple of %zu\n", len, sizeof(struct case_in));
    return 2;
  }
  size_t count = len / sizeof(struct case_in);
  struct case_out *out = calloc(count ? count : 1, sizeof(struct case_out));

  page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (page == MAP_FAILED) {
    perror("harness: mmap RWX below 4 GiB");
    return 2;
  }
  /* Fixed parts of the page: the entry into compatibility mode and the way back out of it. */
  static const uint8_t ljmp_far32[6] = {0xff, 0x2d, FAR32 - ENTRY32 - 6, 0, 0, 0}; /* ljmp *[rip+rel32] */
  memcpy(page + ENTRY32, ljmp_far32, sizeof ljmp_far32);
  uint32_t insn32 = (uint32_t)(uintptr_t)(page + INSN);
  uint16_t cs32 = USER_CS32;
  memcpy(page + FAR32, &insn32, 4);
  memcpy(page + FAR32 + 4, &cs32, 2);
  put_jmp_epilogue(page + BACK64);

  static uint8_t altstack[64 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    perror("harness: sigaltstack");
    return 2;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  for (size_t i = 0; i < count; i++) {
    struct case_in c;
    memcpy(&c, in + i * sizeof c, sizeof c);
    if (c.len == 0 || c.len > 15 || (c.bits != 32 && c.bits != 64)) {
      fprintf(stderr, "harness: case %zu has length %u, bits %u\n", i, c.len, c.bits);
      return 2;
    }
    run_one(&c, &out[i]);
  }

  if (fwrite(out, sizeof(struct case_out), count, stdout) != count) {
    perror("harness: write");
    return 2;
  }
  return 0;
}
