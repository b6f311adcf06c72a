// `node --expose-gc out/bench/smp-memory.js N`: what a Machine with N vCPUs costs after
// booting them all (guests/smp-boot). Run in a fresh process per N by bench/smp.ts, so that
// nothing else measured lives in the same heap. Prints one JSON line of byte deltas.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../core/machine';

export interface MemoryDelta {
  vcpus: number;
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
  output: string;
}

const IMAGE = join(__dirname, '../../guests/smp-boot/smp-boot.elf');

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc(); gc();
  return process.memoryUsage();
}

function measure(vcpus: number): MemoryDelta {
  const bytes = readFileSync(IMAGE);
  // The modules are loaded (imports above); the baseline holds no machine, so the 64 MiB
  // guest RAM buffer counts in the delta, as every other fixed cost does.
  const before = collect();
  const m = new Machine({ vcpus, memoryMiB: 64, x2apic: vcpus > 255 });
  m.load(bytes, { imagePath: IMAGE });
  let output = '';
  m.onSerial = (b) => { output += String.fromCharCode(b); };
  m.run();
  const after = collect();
  const result = {
    vcpus,
    heapUsed: after.heapUsed - before.heapUsed,
    arrayBuffers: after.arrayBuffers - before.arrayBuffers,
    rss: after.rss - before.rss,
    output,
  };
  // Keeps the machine reachable until after the second measurement.
  if (m.instructions() === 0) result.output += '(nothing ran)';
  return result;
}

if (require.main === module) {
  console.log(JSON.stringify(measure(Number(process.argv[2]))));
}
