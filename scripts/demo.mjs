// `npm run demo`: what Hyperstep is for, on the bundled guests. First three guests through the
// CLI, as a user would run them; then a debug session over DAP, as VS Code drives it: smp-boot
// on 4 vCPUs, stopped on the INIT IPI, stepped to each SIPI, the AP's LAPIC read, run to the
// end. Succeeds when every guest passes and the session sees what it should.
import { spawn, spawnSync } from 'node:child_process';
import { DebugClient } from '@vscode/debugadapter-testsupport';

let failed = 0;
for (const g of ['hello', 'cprog', 'platform']) {
  console.log(`\n$ npx hyperstep run guests/${g}/${g}.elf`);
  const r = spawnSync(process.execPath, ['dist/hyperstep.js', 'run', `guests/${g}/${g}.elf`], { stdio: 'inherit' });
  if (r.status !== 1) { failed++; console.log(`(exit status ${r.status}, expected 1)`); }
}

console.log('\n$ npx hyperstep dap --port 0   (a debug session, driven here as VS Code would)');
const adapter = spawn(process.execPath, ['dist/hyperstep.js', 'dap', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
const port = await new Promise((resolve, reject) => {
  let err = '';
  adapter.stderr.on('data', (d) => { err += d; const m = /127\.0\.0\.1:(\d+)/.exec(err); if (m) resolve(Number(m[1])); });
  adapter.on('exit', (c) => reject(new Error(`adapter exited ${c}: ${err}`)));
});
const dc = new DebugClient('node', 'dist/hyperstep.js', 'hyperstep');
const say = (s) => console.log(`  ${s}`);
try {
  await dc.start(port);
  let serial = '';
  dc.on('output', (e) => { if (e.body.category === 'stdout') serial += e.body.output; });
  await dc.initializeRequest({ adapterID: 'hyperstep', pathFormat: 'path' });
  await Promise.all([dc.waitForEvent('initialized'), dc.launchRequest({ program: 'guests/smp-boot/smp-boot.elf', vcpus: 4 })]);
  await dc.setExceptionBreakpointsRequest({ filters: ['init'] });
  say('launch smp-boot, 4 vCPUs, event breakpoint: INIT');
  let stop = dc.waitForEvent('stopped');
  await dc.configurationDoneRequest();
  let s = (await stop).body;
  say(`stopped: ${s.description}`);
  const top = (await dc.stackTraceRequest({ threadId: s.threadId })).body.stackFrames;
  say(`stack:   ${top.slice(0, 3).map((f) => f.name + (f.source ? ` (${f.source.name}:${f.line})` : '')).join('  <  ')}`);
  const icr = (await dc.evaluateRequest({ expression: 'lapic 0', context: 'repl' })).body.result.split('\n').find((l) => /^\s*ICR/.test(l));
  say(`LAPIC:  ${icr.trim()}`);
  say(`threads: ${(await dc.threadsRequest()).body.threads.map((t) => t.name).join(', ')}`);
  await dc.setExceptionBreakpointsRequest({ filters: [] });
  // Step to vCPU 0's next IPIs until the first SIPI is out.
  for (let k = 0; k < 12; k++) {
    stop = dc.waitForEvent('stopped');
    await dc.stepInRequest({ threadId: 1, targetId: 2 });
    s = (await stop).body;
    say(`step to next IPI sent: ${s.description.replace(/^Next event on vCPU 0: /, '')}`);
    if (/SIPI/.test(s.description)) break;
  }
  const ap = (await dc.threadsRequest()).body.threads[1];
  const pc = (await dc.evaluateRequest({ expression: 'pc', context: 'watch', frameId: (await dc.stackTraceRequest({ threadId: ap.id })).body.stackFrames[0].id })).body.result;
  say(`${ap.name} is at ${pc.split(' ')[0]} (vector 0x08 << 12)`);
  const exited = dc.waitForEvent('exited');
  await dc.continueRequest({ threadId: 1 });
  const code = (await exited).body.exitCode;
  say(`continue: the guest ran to its end (exit ${code}); its last line: ${serial.trim().split('\n').pop()}`);
  if (code !== 1 || !/^vCPU 1 \(AP, real mode\)$/.test(ap.name) || !pc.startsWith('0x8000')) { failed++; console.log('(the debug session did not go as expected)'); }
} catch (e) {
  failed++;
  console.log(`debug session failed: ${e instanceof Error ? e.message : e}`);
} finally {
  await dc.stop().catch(() => {});
  adapter.kill();
}
process.exit(failed ? 1 : 0);
