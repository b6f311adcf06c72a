// Runs single SSE instructions on this machine's CPU for the differential part of sse.test.ts.
// Each case is one instruction whose operands are only xmm0, xmm1 and rax; a tiny C program
// (built with gcc once, cached in the temp directory by source hash) loads the three
// registers, calls the instruction followed by RET on an executable page, and stores them back.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SseState { xmm0: Uint8Array; xmm1: Uint8Array; rax: bigint }
export interface SseCase { name: string; code: number[]; input: SseState }

const IN_SIZE = 64, OUT_SIZE = 48;

const SOURCE = String.raw`
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct case_in { uint8_t code[15]; uint8_t len; uint8_t x0[16]; uint8_t x1[16]; uint64_t rax; uint64_t pad; };
struct case_out { uint8_t x0[16]; uint8_t x1[16]; uint64_t rax; uint64_t pad; };
_Static_assert(sizeof(struct case_in) == 64, "in");
_Static_assert(sizeof(struct case_out) == 48, "out");

int main(void) {
  uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) { perror("mmap"); return 2; }
  struct case_in c;
  static uint8_t state[48];
  while (fread(&c, sizeof c, 1, stdin) == 1) {
    if (c.len == 0 || c.len > 14) return 3;
    memcpy(page, c.code, c.len);
    page[c.len] = 0xc3; /* ret */
    memcpy(state, c.x0, 16); memcpy(state + 16, c.x1, 16); memcpy(state + 32, &c.rax, 8);
    __asm__ volatile(
        "movdqu 0(%0), %%xmm0\n\tmovdqu 16(%0), %%xmm1\n\tmov 32(%0), %%rax\n\t"
        "call *%1\n\t"
        "movdqu %%xmm0, 0(%0)\n\tmovdqu %%xmm1, 16(%0)\n\tmov %%rax, 32(%0)\n\t"
        : : "r"(state), "r"(page)
        : "rax", "xmm0", "xmm1", "memory", "cc");
    struct case_out o;
    memset(&o, 0, sizeof o);
    memcpy(o.x0, state, 16); memcpy(o.x1, state + 16, 16); memcpy(&o.rax, state + 32, 8);
    fwrite(&o, sizeof o, 1, stdout);
  }
  return 0;
}
`;

/** Why the native side cannot run here, or null. */
export function sseNativeUnavailable(): string | null {
  if (process.arch !== 'x64' || process.platform !== 'linux') return `needs x86-64 Linux (this is ${process.platform}/${process.arch})`;
  try { execFileSync('gcc', ['--version'], { stdio: 'ignore' }); } catch { return 'gcc not found on PATH'; }
  return null;
}

function build(): string {
  const hash = createHash('sha256').update(SOURCE).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'hyperstep-native');
  fs.mkdirSync(dir, { recursive: true });
  const binary = path.join(dir, `sse-${hash}`);
  if (!fs.existsSync(binary)) {
    const src = path.join(dir, `sse-${hash}.${process.pid}.c`);
    const tmp = `${binary}.${process.pid}.tmp`;
    fs.writeFileSync(src, SOURCE);
    // No red zone: the inline CALL pushes below RSP.
    const r = spawnSync('gcc', ['-O1', '-mno-red-zone', '-o', tmp, src], { encoding: 'utf8' });
    fs.rmSync(src, { force: true });
    if (r.status !== 0) throw new Error(`gcc failed:\n${r.stderr}`);
    fs.renameSync(tmp, binary);
  }
  return binary;
}

export function runSseNative(cases: readonly SseCase[]): SseState[] {
  const buf = Buffer.alloc(cases.length * IN_SIZE);
  cases.forEach((c, i) => {
    const o = i * IN_SIZE;
    buf.set(c.code, o);
    buf[o + 15] = c.code.length;
    buf.set(c.input.xmm0, o + 16);
    buf.set(c.input.xmm1, o + 32);
    buf.writeBigUInt64LE(BigInt.asUintN(64, c.input.rax), o + 48);
  });
  const r = spawnSync(build(), [], { input: buf, maxBuffer: cases.length * OUT_SIZE + 1024 });
  if (r.status !== 0) throw new Error(`native SSE runner exited with ${r.status ?? r.signal}: ${r.stderr.toString()}`);
  const out = r.stdout;
  if (out.length !== cases.length * OUT_SIZE) throw new Error(`native SSE runner wrote ${out.length} bytes for ${cases.length} cases`);
  return cases.map((_, i) => {
    const o = i * OUT_SIZE;
    return { xmm0: Uint8Array.from(out.subarray(o, o + 16)), xmm1: Uint8Array.from(out.subarray(o + 16, o + 32)), rax: out.readBigUInt64LE(o + 32) };
  });
}
