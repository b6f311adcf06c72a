// `npm run demo`: runs bundled guests through the CLI, as a user would, and succeeds when
// each exits with isa-debug-exit status 1 (the guest wrote 0: PASS).
import { spawnSync } from 'node:child_process';

const guests = ['hello', 'cprog', 'platform'];
let failed = 0;
for (const g of guests) {
  const args = ['dist/hyperstep.js', 'run', `guests/${g}/${g}.elf`];
  console.log(`\n$ npx hyperstep run guests/${g}/${g}.elf`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 1) { failed++; console.log(`(exit status ${r.status}, expected 1)`); }
}
process.exit(failed ? 1 : 0);
