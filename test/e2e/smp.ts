// End to end in a real VS Code: the packaged extension, the SMP sample, a session stopped on
// entry, the INIT event breakpoint, the stop on INIT asserted through the VS Code API, the LAPIC
// read over DAP, the vCPUs view's model, a step to the SIPI, the IPI timeline, screenshots.
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEBUG_TYPE, threadIdOf } from '../../debug-adapter/protocol';
import type { LapicResponseBody, VcpusResponseBody } from '../../debug-adapter/protocol';
import type { HyperstepApi } from '../../extension/api';
import { Suite, until, sleep } from './harness';
import { DapRecorder, Message } from './dap';
import { driver } from './driver';

const EXTENSION_ID = 'hyperstep.hyperstep';
const CONFIG_NAME = 'Hyperstep: SMP boot (4 vCPUs)';

export function smpSuite(): Suite {
  const suite = new Suite();
  const dap = new DapRecorder(DEBUG_TYPE);
  let api: HyperstepApi;
  let folder: vscode.WorkspaceFolder;
  let session: vscode.DebugSession;
  let initStop: Message;

  interface Mark { dap: number; stops: number }
  const mark = (): Mark => ({ dap: dap.mark(), stops: api.session()?.stops ?? 0 });

  /** Waits for the next `stopped` after `m`, then for the extension to have re-read the vCPUs. */
  async function nextStop(m: Mark, what: string): Promise<Message> {
    const stopped = await dap.event(m.dap, 'stopped', what, 60_000);
    await until(() => {
      const s = api.session();
      return s && !s.running && s.stops > m.stops && s.vcpusAtStop === s.stops && s.vcpus.length === 4 ? s : undefined;
    }, 'the extension to read the vCPUs after the stop', 20_000).catch((e: Error) => {
      const s = api.session();
      throw new Error(`${e.message} (model: ${s ? JSON.stringify({ running: s.running, stops: s.stops, vcpusAtStop: s.vcpusAtStop, vcpus: s.vcpus.length, stopsBefore: m.stops }) : 'none'})`);
    });
    await until(() => api.vcpuItems().length === 4, 'four vCPU rows', 20_000);
    return stopped;
  }

  suite.step('the extension is installed from the .vsix and activates', async () => {
    const ext = vscode.extensions.getExtension<HyperstepApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is installed`);
    const expected = process.env.HYPERSTEP_E2E_EXTENSIONS_DIR;
    if (expected) assert.ok(ext.extensionPath.startsWith(expected), `loaded from the installed .vsix (${ext.extensionPath}), not from the source tree`);
    assert.ok(existsSync(join(ext.extensionPath, 'dist/hyperstep.js')), 'the adapter is in the package');
    assert.ok(!existsSync(join(ext.extensionPath, 'core')), 'sources are not in the package');
    api = await ext.activate();
    assert.equal(typeof api.vcpuItems, 'function');
  });

  suite.step('Open SMP Sample fills the open folder with the guests and a launch.json', async () => {
    folder = vscode.workspace.workspaceFolders![0];
    assert.ok(folder, 'a folder is open');
    const path = await vscode.commands.executeCommand<string>('hyperstep.openSample', folder.uri);
    assert.equal(path, folder.uri.fsPath);
    for (const f of ['guests/smp-boot/smp-boot.elf', 'guests/smp-boot/smp-boot.c', 'guests/common/trampoline.S', '.vscode/launch.json']) {
      assert.ok(existsSync(join(folder.uri.fsPath, f)), f);
    }
    const launch = vscode.workspace.getConfiguration('launch', folder.uri).get<{ name: string }[]>('configurations') ?? [];
    await until(() => (vscode.workspace.getConfiguration('launch', folder.uri).get<{ name: string }[]>('configurations') ?? launch).some((c) => c.name === CONFIG_NAME),
      'VS Code to read the new launch.json', 10_000);
  });

  suite.step('starting the sample stops on entry with four vCPU threads', async () => {
    const m = { dap: dap.mark(), stops: 0 };
    const started = await vscode.debug.startDebugging(folder, CONFIG_NAME);
    assert.ok(started, 'startDebugging');
    const stopped = await nextStop(m, 'the stop on entry');
    assert.equal(stopped.body.reason, 'entry');
    assert.equal(stopped.body.threadId, threadIdOf(0));
    session = vscode.debug.activeDebugSession!;
    assert.equal(session.type, DEBUG_TYPE);
    const launch = dap.find(m.dap, (x) => x.dir === 'out' && x.command === 'launch');
    assert.equal(launch?.arguments.vcpus, 4);
    assert.equal(launch?.arguments.stopOnEntry, true);
    const threads = (await session.customRequest('threads')) as { threads: { id: number; name: string }[] };
    assert.deepEqual(threads.threads.map((t) => t.id), [1, 2, 3, 4]);
    assert.match(threads.threads[0].name, /vCPU 0 \(BSP/);
    assert.match(threads.threads[1].name, /vCPU 1 \(AP, wait-for-SIPI/);
  });

  suite.step('the vCPUs view shows the BSP running and three APs waiting for SIPI', async () => {
    const items = api.vcpuItems();
    assert.deepEqual(items.map((i) => i.label), ['vCPU 0', 'vCPU 1', 'vCPU 2', 'vCPU 3']);
    assert.match(items[0].description, /^BSP · running · protected32/);
    for (const ap of items.slice(1)) assert.match(ap.description, /^AP · wait-for-SIPI/);
    const status = api.session()?.status;
    assert.ok(status, 'a hyperstep/status arrived');
    assert.equal(status.vcpus, 4);
    assert.equal(status.running, false);
  });

  suite.step('the INIT event breakpoint, enabled in the Breakpoints view, stops vCPU 0 sending INIT', async () => {
    const init = dap.find(0, (m) => m.dir === 'in' && m.type === 'response' && m.command === 'initialize');
    const filters = (init?.body?.exceptionBreakpointFilters ?? []) as { filter: string; label: string }[];
    const filter = filters.find((f) => f.filter === 'init');
    assert.ok(filter, `the adapter offers the 'init' filter (has ${filters.map((f) => f.filter).join(', ')})`);
    const before = dap.mark();
    let clicked = false;
    if (driver.available) {
      await vscode.commands.executeCommand('workbench.debug.action.focusBreakpointsView');
      await sleep(300);
      const r = await driver.request({ action: 'enableFilter', label: filter.label });
      clicked = r.ok;
      if (!r.ok) console.log(`driver could not tick '${filter.label}' (${r.error}); setting it over DAP`);
    }
    if (!clicked) {
      const on = filters.filter((f) => f.filter === 'init' || (f as { default?: boolean }).default).map((f) => f.filter);
      await session.customRequest('setExceptionBreakpoints', { filters: on });
    }
    const set = await dap.wait(before, (m) => m.dir === 'out' && m.command === 'setExceptionBreakpoints', 'setExceptionBreakpoints');
    const named = [...(set.arguments.filters ?? []), ...(set.arguments.filterOptions ?? []).map((o: { filterId: string }) => o.filterId)];
    assert.ok(named.includes('init'), `init is enabled (${named.join(', ')})`);
    await sleep(200);
    const m = mark();
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    initStop = await nextStop(m, 'the stop on INIT');
    assert.equal(initStop.body.threadId, threadIdOf(0), 'stopped on the sender, vCPU 0');
    assert.match(`${initStop.body.description} ${initStop.body.text ?? ''}`, /INIT/);
    assert.match(`${initStop.body.description} ${initStop.body.text ?? ''}`, /vCPU 1/);
    assert.equal(initStop.body.allThreadsStopped, true);
    // The same stop, as the VS Code API sees it.
    await until(() => vscode.debug.activeStackItem, 'VS Code to focus the stopped thread', 10_000);
    const item = vscode.debug.activeStackItem!;
    assert.equal(item.threadId, threadIdOf(0));
    assert.equal(item.session.id, session.id);
    assert.equal(api.session()?.lastStop?.threadId, threadIdOf(0));
  });

  suite.step("vCPU 0's LAPIC over DAP: the Local APIC scope and hyperstep/lapic show the INIT in the ICR", async () => {
    const stack = (await session.customRequest('stackTrace', { threadId: threadIdOf(0), startFrame: 0, levels: 5 })) as { stackFrames: { id: number; name: string }[] };
    assert.ok(stack.stackFrames.length > 0);
    const scopes = (await session.customRequest('scopes', { frameId: stack.stackFrames[0].id })) as { scopes: { name: string; variablesReference: number }[] };
    const lapicScope = scopes.scopes.find((s) => /APIC/i.test(s.name));
    assert.ok(lapicScope, `a Local APIC scope (scopes: ${scopes.scopes.map((s) => s.name).join(', ')})`);
    const vars = (await session.customRequest('variables', { variablesReference: lapicScope.variablesReference })) as { variables: { name: string; value: string; variablesReference: number }[] };
    const names = vars.variables.map((v) => v.name);
    for (const r of ['ICR', 'IRR', 'ISR', 'TPR', 'SVR']) assert.ok(names.some((n) => n.startsWith(r)), `${r} in ${names.join(', ')}`);
    const icr = vars.variables.find((v) => v.name.startsWith('ICR'))!;
    let icrText = icr.value;
    if (icr.variablesReference) {
      const fields = (await session.customRequest('variables', { variablesReference: icr.variablesReference })) as { variables: { name: string; value: string }[] };
      icrText += ' ' + fields.variables.map((f) => `${f.name}=${f.value}`).join(' ');
    }
    assert.match(icrText, /init/i, `the ICR decodes as INIT: ${icrText}`);
    const lapic = (await session.customRequest('hyperstep/lapic', { vcpu: 0 })) as LapicResponseBody;
    assert.equal(lapic.vcpu, 0);
    assert.equal(lapic.mode, 'xapic');
    const icrView = lapic.registers.find((r) => r.name.startsWith('ICR'));
    assert.ok(icrView, 'ICR in hyperstep/lapic');
    assert.match(icrView.decoded, /init/i);
    await vscode.commands.executeCommand('hyperstep.showLapic', 1);
    await until(() => api.lapic.shown()?.vcpu === 1, 'the LAPIC panel to show vCPU 1');
    assert.ok(api.lapic.isOpen());
  });

  suite.step('the vCPUs view model matches hyperstep/vcpus at the INIT stop', async () => {
    const r = (await session.customRequest('hyperstep/vcpus', {})) as VcpusResponseBody;
    assert.equal(r.vcpus.length, 4);
    const items = api.vcpuItems();
    for (const v of r.vcpus) {
      const item = items.find((i) => i.vcpu === v.vcpu)!;
      assert.equal(item.threadId, v.threadId);
      assert.ok(item.description.includes(v.mode), `${item.description} names mode ${v.mode}`);
    }
    assert.equal(r.vcpus[0].bsp, true);
    assert.equal(r.vcpus[1].activity, 'wait-for-sipi');
  });

  suite.step('Step to Next Event reaches the SIPI; the AP then starts at vector << 12', async () => {
    // smp-boot sends INIT assert and INIT de-assert to each AP, waits 10 ms, then the STARTUPs.
    let stop: Message | undefined;
    for (let k = 0; k < 8; k++) {
      const m = mark();
      await vscode.commands.executeCommand('hyperstep.stepToNextEvent', { vcpu: 0 }, 'ipi-send');
      stop = await nextStop(m, `step ${k + 1} to the next IPI sent`);
      if (/SIPI|STARTUP/i.test(`${stop.body.description} ${stop.body.text ?? ''}`)) break;
    }
    const text = `${stop?.body.description} ${stop?.body.text ?? ''}`;
    assert.ok(stop && /SIPI|STARTUP/i.test(text), `stopped on the SIPI: ${JSON.stringify(stop?.body)}`);
    // The STARTUP is delivered as it is sent (IRR-less, SDM 10.6.1): its AP already runs the
    // trampoline, in real mode with CS = vector << 8 (base vector << 12), IP 0.
    const target = Number(/to vCPU (\d+)/.exec(text)?.[1] ?? 1);
    let ap = api.session()!.vcpus.find((v) => v.vcpu === target)!;
    console.log(`at the SIPI: ${JSON.stringify(ap)}`);
    if (ap.activity !== 'active') {
      const m = mark();
      await vscode.commands.executeCommand('hyperstep.stepToNextEvent', { vcpu: target }, 'state');
      await nextStop(m, `vCPU ${target} changing state`);
      ap = api.session()!.vcpus.find((v) => v.vcpu === target)!;
    }
    assert.equal(ap.activity, 'active', `vCPU ${target} runs after the SIPI (${ap.name})`);
    assert.equal(ap.mode, 'real');
    assert.ok(ap.rip === 0 || ap.rip === 0x8000, `vCPU ${target} starts at the trampoline, 0x8000 (rip ${ap.rip.toString(16)})`);
    assert.equal(api.vcpuItems()[target].details.find((d) => d.label === 'state')?.value.startsWith('running'), true);
  });

  suite.step('the IPI Timeline draws the INIT and SIPI arrows', async () => {
    await vscode.commands.executeCommand('hyperstep.showTimeline');
    const r = await api.timeline.whenRendered(3, 20_000);
    assert.ok(r.rows >= 3, `${r.rows} rows`);
    assert.ok(r.arrows >= 1, `arrows drawn: ${r.arrows}`);
    assert.ok(api.session()!.timelineRows >= r.rows);
  });

  suite.step('screenshot: debugging with the vCPUs view and the LAPIC variables', async () => {
    if (!driver.available) return;
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('workbench.view.debug');
    await vscode.commands.executeCommand('hyperstep.vcpus.focus');
    await driver.request({ action: 'widenSideBar', by: 160 });
    await vscode.commands.executeCommand('hyperstep.revealVcpu', 1);
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    await vscode.commands.executeCommand('hyperstep.showLapic', 1);
    await driver.request({ action: 'collapseViews', titles: ['Watch', 'Loaded Scripts', 'Breakpoints'] });
    // The focused frame decides what the Variables view shows: vCPU 0's guest frame.
    const clicked = await driver.request({ action: 'clickFrame', thread: 'vCPU 0 (', text: 'lapic_send_ipi' });
    if (!clicked.ok) console.log(`could not focus the frame: ${clicked.error}`);
    await sleep(1000);
    const expanded = await driver.request({ action: 'expandVariables', scope: 'APIC' });
    if (!expanded.ok) console.log(`could not expand the Local APIC scope: ${expanded.error}`);
    await sleep(800);
    await driver.screenshot('debugging');
  }, 90_000);

  suite.step('Export Trace writes the recorded events as JSON lines', async () => {
    const path = join(folder.uri.fsPath, 'trace.jsonl');
    const r = await vscode.commands.executeCommand<{ path: string; events: number }>('hyperstep.exportTrace', path);
    assert.ok(r && r.events > 0, `exported ${r?.events} events`);
    assert.ok(statSync(path).size > 0);
    const first = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]);
    assert.equal(typeof first.type, 'string');
  });

  suite.step('continuing runs the guest to its end: every AP starts, serial output in the Debug Console', async () => {
    const from = dap.mark();
    await session.customRequest('setExceptionBreakpoints', { filters: [] });
    await vscode.commands.executeCommand('workbench.action.debug.continue');
    await dap.event(from, 'terminated', 'the guest to finish', 120_000);
    const output = dap.messages.filter((m) => m.dir === 'in' && m.event === 'output').map((m) => m.body.output as string).join('');
    assert.match(output, /trampoline entered 3 times for 3 APs/);
    assert.match(output, /PASS/);
    const r = await api.timeline.whenRendered(50, 20_000);
    assert.ok(r.rows >= 50);
  }, 150_000);

  suite.step('screenshot: the IPI timeline of the whole boot', async () => {
    if (!driver.available) return;
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    await vscode.commands.executeCommand('hyperstep.showTimeline');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await sleep(1500);
    await driver.screenshot('timeline');
  }, 60_000);

  return suite;
}
