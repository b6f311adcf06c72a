// `node out/bench/jit.js [guest] [cmdline]`: guest instructions per second with the JIT on and
// off, and what the JIT did (blocks compiled, declined, killed by writes). For tuning
// core/cpu/jit (its HOT threshold, block size); `npm run bench` is the benchmark of record.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../core/machine';

const ROOT = join(__dirname, '../..');
const guest = process.argv[2] ?? 'bench';
const cmdline = process.argv[3] ?? (guest === 'bench' ? 'rounds=20' : undefined);
const image = join(ROOT, 'guests', guest, `${guest}.elf`);

function measure(jit: boolean): void {
  let best = Infinity;
  let m: Machine | null = null;
  for (let k = 0; k < 3; k++) {
    m = new Machine({ memoryMiB: 64, jit });
    m.load(readFileSync(image), { imagePath: image, cmdline });
    const t0 = process.hrtime.bigint();
    m.run();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const n = m!.instructions();
  const b = m!.decodeCache.blocks;
  const stats = jit ? `, ${b.compiled} blocks compiled, ${b.declined} declined, ${b.invalidated} killed by writes` : '';
  console.log(`${guest} JIT ${jit ? 'on ' : 'off'}: ${n} instructions in ${best.toFixed(3)} s = ${(n / best / 1e6).toFixed(1)} M/s${stats}`);
}

measure(false);
measure(true);
