// Assembler diagnostics: when `as` (through `gcc -x assembler-with-cpp` for .S files) or
// `nasm` is on the PATH, assemble the document's text (not the file on disk: what the
// editor shows) and map each message to its line. Messages about an included file are
// reported on the line that includes it.
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join } from 'node:path';
import { usesCpp } from '../documents/dialect';
import type { SourceFile, Workspace } from '../workspace/store';

export interface AssemblerOptions {
  enabled: boolean;
  /** Commands (names on the PATH or paths). */
  as: string;
  gcc: string;
  nasm: string;
  /** Extra arguments for every run (e.g. ["-Iinclude", "-DSMP"]). */
  args: string[];
  timeoutMs: number;
}

export const DEFAULT_ASSEMBLER: AssemblerOptions = { enabled: true, as: 'as', gcc: 'gcc', nasm: 'nasm', args: [], timeoutMs: 10000 };

export interface AssemblerMessage {
  line: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface AssemblerRun {
  tool: string;
  messages: AssemblerMessage[];
}

const found = new Map<string, string | null>();

/** The full path of a command on the PATH, or undefined. */
export function findOnPath(cmd: string): string | undefined {
  if (found.has(cmd)) return found.get(cmd) ?? undefined;
  let hit: string | null = null;
  const candidates = isAbsolute(cmd) || cmd.includes('/') ? [cmd] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      hit = c;
      break;
    } catch {
      // not here
    }
  }
  found.set(cmd, hit);
  return hit ?? undefined;
}

const MESSAGE = /^(.*?):(\d+):(?:\d+:)?\s*(?:fatal\s+)?(error|warning|Error|Warning|Fatal error)[:]?\s*(.*)$/;
const MAX_OUTPUT = 1 << 20;

/** Assembles a document; undefined when no assembler for its language is installed (or assembling is off). */
export async function assemble(ws: Workspace, file: SourceFile, opts: AssemblerOptions): Promise<AssemblerRun | undefined> {
  if (!opts.enabled || file.language === 'c-header') return undefined;
  const dir = isAbsolute(file.key) ? dirname(file.key) : process.cwd();
  const includeDirs = new Set<string>([dir]);
  for (const p of ws.includePaths) includeDirs.add(isAbsolute(p) ? p : join(ws.roots[0] ?? dir, p));
  // Headers we found by name elsewhere in the workspace: the build must have an -I for them.
  for (const f of ws.includeClosure(file).slice(1)) if (isAbsolute(f.key)) includeDirs.add(dirname(f.key));
  const bits64 = file.parsed.defaultBits === 64 || file.parsed.statements.some((s) => s.kind === 'instruction' && s.bits === 64);

  if (file.language === 'nasm') {
    const nasm = findOnPath(opts.nasm);
    if (!nasm) return undefined;
    const tmp = mkdtempSync(join(tmpdir(), 'hyperstep-nasm-'));
    const src = join(tmp, basename(file.key).replace(/[^\w.-]/g, '_') || 'input.asm');
    try {
      writeFileSync(src, file.text);
      const format = /^\s*\[?\s*org\b/im.test(file.text) ? 'bin' : bits64 ? 'elf64' : 'elf32';
      const args = ['-f', format, '-o', process.platform === 'win32' ? 'NUL' : '/dev/null', ...[...includeDirs].map((d) => `-I${d}/`), ...opts.args, src];
      const out = await run(nasm, args, undefined, opts.timeoutMs, dir);
      return { tool: 'nasm', messages: parseMessages(out, file, [src]) };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const cpp = usesCpp(file.key);
  const tool = findOnPath(cpp ? opts.gcc : opts.as);
  if (!tool) return undefined;
  const inc = [...includeDirs].flatMap((d) => ['-I', d]);
  const args = cpp
    ? ['-x', 'assembler-with-cpp', bits64 ? '-m64' : '-m32', '-c', '-o', '/dev/null', ...inc, ...opts.args, '-']
    : [bits64 ? '--64' : '--32', '-o', '/dev/null', ...inc, ...opts.args];
  const out = await run(tool, args, file.text, opts.timeoutMs, dir);
  return { tool: cpp ? 'gcc' : 'as', messages: parseMessages(out, file, ['{standard input}', '<stdin>', '-']) };
}

function run(cmd: string, args: string[], input: string | undefined, timeoutMs: number, cwd: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    const child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const finish = () => { if (!done) { done = true; clearTimeout(timer); resolve(out); } };
    const timer = setTimeout(() => { child.kill('SIGKILL'); finish(); }, timeoutMs);
    const collect = (b: Buffer) => { if (out.length < MAX_OUTPUT) out += b.toString('utf8'); };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', finish);
    child.on('close', finish);
    child.stdin.on('error', () => { /* the tool may exit before reading everything */ });
    child.stdin.end(input ?? '');
  });
}

/** Maps "file:line: Error: text" messages to lines of the document. */
export function parseMessages(output: string, file: SourceFile, selfNames: string[]): AssemblerMessage[] {
  const out: AssemblerMessage[] = [];
  for (const raw of output.split('\n')) {
    const m = MESSAGE.exec(raw.trim());
    if (!m) continue;
    const [, name, lineText, kind, text] = m;
    const severity = /warning/i.test(kind) ? 'warning' : 'error';
    const n = Math.max(0, Number(lineText) - 1);
    if (selfNames.includes(name) || name === file.key) {
      out.push({ line: Math.min(n, file.parsed.lineCount - 1), severity, message: text });
      continue;
    }
    // Another file: report at the include that brings it in.
    const inc = file.parsed.includes.find((i) => basename(i.path) === basename(name)) ?? file.parsed.includes[0];
    out.push({ line: inc ? inc.span.line : 0, severity, message: `${basename(name)}:${n + 1}: ${text}` });
  }
  return out;
}
