// `hyperstep`: the command line. `hyperstep run IMAGE [options]` runs a guest with its
// serial output on stdout and exits as QEMU's isa-debug-exit would.
import { readFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { Machine, StopInfo, DEFAULTS } from '../core/machine';
import { LoaderError, ImageFormat } from '../core/loader';
import { CAPABILITIES, QUIRKS, isCapability, isQuirk } from '../core/vmm/types';

import { EXIT, exitStatusOf } from '../core/exit-status';
import { exitTable } from '../core/vmm/exit-table';

export { EXIT };

const HELP = `Usage: hyperstep run IMAGE [options]
       hyperstep dap [--port P]     Debug Adapter Protocol server (stdio, or 127.0.0.1:P)
       hyperstep lsp --stdio        language server for guest x86 assembly (GNU as, NASM)

Runs an x86 guest image on Hyperstep's deterministic virtual machine. The guest's
serial port (COM1) goes to stdout; diagnostics go to stderr.

IMAGE is a multiboot v1 kernel (ELF32 or a.out kludge, as QEMU -kernel takes it), an
ELF64 (entered in long mode with identity paging), or a flat binary (--format flat).

Options:
  --vcpus N             number of vCPUs, 1-1024 (default ${DEFAULTS.vcpus}); APs wait for INIT-SIPI-SIPI
  --x2apic              advertise x2APIC in CPUID (LAPICs start in xAPIC mode, as after firmware)
  --cap NAME            VM capability (repeatable): ipi-exit, hlt-exit, pause-exit
  --quirk NAME          reproduce a named hypervisor bug (repeatable); --quirk help lists them
  --stats               print exit counts per vCPU and reason to stderr at the end
  --memory MiB          guest RAM in MiB, 2-3072 (default ${DEFAULTS.memoryMiB}, as QEMU)
  --seed S              scheduler seed (default ${DEFAULTS.seed}); same image+config+seed = same run
  --quantum N           instructions per scheduling quantum (default ${DEFAULTS.quantum})
  --cmdline STR         multiboot command line (as QEMU -append)
  --format F            auto | multiboot | elf | flat (default auto)
  --flat-address A      load address of a flat binary (default 0x100000)
  --flat-mode M         real16 | protected32 | long64 for a flat binary (default protected32)
  --max-instructions N  stop after N instructions in total
  --trace FILE          write every event (JSON lines) to FILE
  --no-jit              interpret every instruction (no compiled blocks; same results, slower)
  -h, --help            this text

Exit status:
  (v << 1) | 1   the guest wrote v to isa-debug-exit (port 0xF4), as QEMU
  ${EXIT.halted}              every vCPU halted with nothing that could wake it
  ${EXIT['triple-fault']}              triple fault (or a reset request)
  ${EXIT.unsupported}              an instruction Hyperstep does not implement (named on stderr)
  ${EXIT['instruction-limit']}              --max-instructions reached
  ${EXIT['init-bsp']}             INIT delivered to the BSP (no firmware to reboot into)
  ${EXIT.invariant}             a hypervisor invariant broke (a quirk's bug happened: named on stderr)
  ${EXIT.badImage}             the image could not be loaded (the error names the header and field)
  ${EXIT.usage}             bad command line
  ${EXIT.error}             internal error (a bug in Hyperstep: please report it)
`;

class UsageError extends Error {}
class QuirkHelp extends Error {}

interface RunOptions {
  image: string;
  vcpus?: number;
  memoryMiB?: number;
  seed?: number;
  quantum?: number;
  cmdline?: string;
  format?: ImageFormat;
  flatAddress?: number;
  flatMode?: 'real16' | 'protected32' | 'long64';
  maxInstructions?: number;
  trace?: string;
  jit?: boolean;
  x2apic?: boolean;
  capabilities: string[];
  quirks: string[];
  stats?: boolean;
}

function parseNumber(flag: string, v: string | undefined): number {
  if (v === undefined) throw new UsageError(`${flag} needs a value`);
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: '${v}' is not a non-negative integer`);
  return n;
}

export function parseRunArgs(args: string[]): RunOptions {
  const o: Partial<RunOptions> = { capabilities: [], quirks: [] };
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? args[++k];
    switch (flag) {
      case '--vcpus': o.vcpus = parseNumber(flag, value()); break;
      case '--memory': o.memoryMiB = parseNumber(flag, value()); break;
      case '--seed': o.seed = parseNumber(flag, value()); break;
      case '--quantum': o.quantum = parseNumber(flag, value()); break;
      case '--cmdline': { const v = value(); if (v === undefined) throw new UsageError('--cmdline needs a value'); o.cmdline = v; break; }
      case '--format': {
        const v = value();
        if (v !== 'auto' && v !== 'multiboot' && v !== 'elf' && v !== 'flat') throw new UsageError(`--format: '${v}' is not one of auto, multiboot, elf, flat`);
        o.format = v; break;
      }
      case '--flat-address': o.flatAddress = parseNumber(flag, value()); break;
      case '--flat-mode': {
        const v = value();
        if (v !== 'real16' && v !== 'protected32' && v !== 'long64') throw new UsageError(`--flat-mode: '${v}' is not one of real16, protected32, long64`);
        o.flatMode = v; break;
      }
      case '--x2apic': o.x2apic = true; break;
      case '--stats': o.stats = true; break;
      case '--cap': {
        const v = value();
        if (!v || !isCapability(v)) throw new UsageError(`--cap: '${v ?? ''}' is not one of ${CAPABILITIES.join(', ')}`);
        o.capabilities!.push(v); break;
      }
      case '--quirk': {
        const v = value();
        if (v === 'help') throw new QuirkHelp();
        if (!v || !isQuirk(v)) throw new UsageError(`--quirk: '${v ?? ''}' is not one of ${Object.keys(QUIRKS).join(', ')} (--quirk help explains them)`);
        o.quirks!.push(v); break;
      }
      case '--max-instructions': o.maxInstructions = parseNumber(flag, value()); break;
      case '--no-jit': if (inline !== undefined) throw new UsageError('--no-jit takes no value'); o.jit = false; break;
      case '--trace': { const v = value(); if (!v) throw new UsageError('--trace needs a file name'); o.trace = v; break; }
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option '${a}' (see hyperstep --help)`);
        if (o.image) throw new UsageError(`unexpected argument '${a}': only one image`);
        o.image = a;
    }
  }
  if (!o.image) throw new UsageError('no image given (usage: hyperstep run IMAGE [options])');
  return o as RunOptions;
}

/** Runs a guest; returns the process exit status. */
export function runCommand(o: RunOptions, out: (b: Uint8Array) => void, err: (s: string) => void): number {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(o.image);
  } catch (e) {
    err(`hyperstep: cannot read ${o.image}: ${(e as Error).message}\n`);
    return EXIT.badImage;
  }
  let m: Machine;
  try {
    m = new Machine({ vcpus: o.vcpus, memoryMiB: o.memoryMiB, seed: o.seed, quantum: o.quantum, maxInstructions: o.maxInstructions, jit: o.jit,
      x2apic: o.x2apic, capabilities: o.capabilities, quirks: o.quirks });
  } catch (e) {
    err(`hyperstep: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  try {
    const img = m.load(bytes, { format: o.format, cmdline: o.cmdline, imagePath: o.image, flatAddress: o.flatAddress, flatMode: o.flatMode });
    for (const w of img.warnings) err(`hyperstep: warning: ${w}\n`);
  } catch (e) {
    if (e instanceof LoaderError || e instanceof RangeError) {
      err(`hyperstep: ${o.image}: ${e.message}\n`);
      return EXIT.badImage;
    }
    throw e;
  }
  let traceFd: number | null = null;
  const lines: string[] = [];
  const flushTrace = () => { if (traceFd !== null && lines.length) { writeSync(traceFd, lines.join('\n') + '\n'); lines.length = 0; } };
  if (o.trace) {
    try {
      traceFd = openSync(o.trace, 'w');
    } catch (e) {
      err(`hyperstep: cannot write the trace ${o.trace}: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    m.onEvent((e) => {
      lines.push(JSON.stringify(e));
      if (lines.length >= 4096) flushTrace();
    });
  }
  // Serial output is buffered and flushed in chunks (and at the end).
  let buf = new Uint8Array(4096);
  let n = 0;
  const flush = () => { if (n) { out(buf.slice(0, n)); n = 0; } };
  m.onSerial = (b) => {
    buf[n++] = b;
    if (n === buf.length) { flush(); buf = new Uint8Array(4096); }
  };
  let stop: StopInfo | null;
  try {
    stop = m.run();
  } catch (e) {
    flush();
    if (traceFd !== null) { flushTrace(); closeSync(traceFd); }
    err(`hyperstep: internal error: ${(e as Error).stack ?? e}\n`);
    return EXIT.error;
  }
  flush();
  if (traceFd !== null) { flushTrace(); closeSync(traceFd); }
  if (o.stats) err(exitStats(m));
  if (stop && stop.reason !== 'debug-exit') err(`hyperstep: ${stop.message}\n`);
  return exitStatusOf(stop);
}

/** Exit counts per vCPU and reason, as a table (only reasons that occurred). */
export function exitStats(m: Machine): string {
  return `exits per vCPU and reason:\n${exitTable(m.vmm, m.cpus).text}\n`;
}

const DAP_HELP = `Usage: hyperstep dap [--port P]

Runs Hyperstep's Debug Adapter Protocol server: on stdin/stdout, or with --port on
127.0.0.1:P (0 picks a free port, printed on stderr), one debug session per connection.
`;

/** `hyperstep dap`: returns -1 to keep the process alive (the adapter runs until its client leaves). */
function dapCommand(args: string[]): number {
  if (args.includes('-h') || args.includes('--help')) { process.stdout.write(DAP_HELP); return 0; }
  let port: number | null = null;
  for (let k = 0; k < args.length; k++) {
    const a = args[k];
    if (a === '--port' || a.startsWith('--port=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++k];
      port = parseNumber('--port', v);
      if (port > 65535) throw new UsageError(`--port: ${port} is not a TCP port`);
    } else throw new UsageError(`dap: unexpected argument '${a}' (usage: hyperstep dap [--port P])`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dap = require('../debug-adapter/main') as typeof import('../debug-adapter/main');
  process.on('uncaughtException', (e) => { process.stderr.write(`hyperstep dap: internal error: ${e.stack ?? e}\n`); });
  if (port === null) dap.runStdio();
  else dap.runServer(port, (p) => process.stderr.write(`hyperstep dap: listening on 127.0.0.1:${p}\n`));
  return -1;
}

export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd ? 0 : EXIT.usage;
  }
  try {
    if (cmd === 'lsp') return (require('../language-server') as typeof import('../language-server')).runLanguageServer(rest); // -1: serving
    if (cmd === 'run') {
      if (rest.includes('-h') || rest.includes('--help')) { process.stdout.write(HELP); return 0; }
      const o = parseRunArgs(rest);
      return runCommand(o, (b) => process.stdout.write(b), (s) => process.stderr.write(s));
    }
    if (cmd === 'dap') return dapCommand(rest);
    throw new UsageError(`unknown command '${cmd}' (commands: run, dap, lsp)`);
  } catch (e) {
    if (e instanceof QuirkHelp) {
      process.stdout.write('Quirks (default off; each reproduces a real hypervisor bug):\n' +
        Object.entries(QUIRKS).map(([k, v]) => `  ${k.padEnd(24)} ${v}\n`).join(''));
      return 0;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`hyperstep: ${e.message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
}

if (require.main === module) {
  const status = main(process.argv.slice(2));
  // Let stdout drain before exiting (-1: a server that exits when its client goes).
  if (status >= 0) process.stdout.write('', () => process.exit(status));
}
