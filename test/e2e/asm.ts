// End to end, the assembly language server in a real VS Code: the sample's asm-ipi.S (INIT-SIPI-
// SIPI written to the ICR by hand) opened from the sample folder, an ICR write decoded on hover,
// the ICR value the SDM rules out flagged, labels and includes navigated; then, stopped in that
// file, the registers a line reads shown as inline values with the focused vCPU's values.
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEBUG_TYPE, threadIdOf } from '../../debug-adapter/protocol';
import { Suite, until, sleep } from './harness';
import { DapRecorder } from './dap';
import { driver } from './driver';
import type { HyperstepApi } from '../../extension/api';

const SOURCE = 'guests/asm-ipi/asm-ipi.S';

/** Markdown of every hover at a position (VS Code merges all providers'). */
async function hoverText(uri: vscode.Uri, pos: vscode.Position): Promise<string> {
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, pos)) ?? [];
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

export function asmSuite(): Suite {
  const suite = new Suite();
  const dap = new DapRecorder(DEBUG_TYPE);
  let folder: vscode.WorkspaceFolder;
  let doc: vscode.TextDocument;
  /** 0-based line of the first line containing `text`, and the column of `text` in it. */
  const find = (text: string, from = 0): vscode.Position => {
    for (let l = from; l < doc.lineCount; l++) {
      const c = doc.lineAt(l).text.indexOf(text);
      if (c >= 0) return new vscode.Position(l, c);
    }
    throw new Error(`'${text}' is not in ${SOURCE}`);
  };

  suite.step('asm-ipi.S from the sample folder opens as GNU as, served by the language server', async () => {
    folder = vscode.workspace.workspaceFolders![0];
    if (!existsSync(join(folder.uri.fsPath, SOURCE))) await vscode.commands.executeCommand('hyperstep.openSample', folder.uri);
    doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, SOURCE));
    await vscode.window.showTextDocument(doc, { preview: false });
    assert.equal(doc.languageId, 'hyperstep-gas');
  });

  suite.step('hover on an ICR write decodes it: Local APIC ICR low, INIT, all excluding self', async () => {
    const value = find('$ICR_INIT_ALL_BUT_SELF, LAPIC_ICR_LO(%ebx)').translate(0, 2);
    // The server starts with the first assembly file: wait for its first answer.
    const text = await until(async () => {
      const t = await hoverText(doc.uri, value);
      return /ICR/.test(t) ? t : undefined;
    }, 'a hover from the language server', 30_000, 250);
    assert.match(text, /Written to Local APIC ICR low/, text);
    assert.match(text, /delivery mode \| 10:8 \| 101 INIT/, text);
    assert.match(text, /destination shorthand \| 19:18 \| 11 all excluding self/, text);
    assert.match(text, /Valid combination/, text);
    const register = await hoverText(doc.uri, find('LAPIC_ICR_LO(%ebx)', value.line).translate(0, 3));
    assert.match(register, /Local APIC ICR low\*\* \(MMIO 0xFEE00300/, register);
    // A mnemonic: its forms come from iced-x86's tables, loaded from the .vsix's node_modules.
    const lidt = await hoverText(doc.uri, find('lidt').translate(0, 1));
    assert.match(lidt, /LIDT/, lidt);
  });

  suite.step('the illegal ICR value (STARTUP to self) is a problem on the line that writes it, and nothing else is', async () => {
    const write = find('$ICR_BAD_STARTUP_SELF, LAPIC_ICR_LO(%ebx)');
    const diags = await until(() => {
      const d = vscode.languages.getDiagnostics(doc.uri);
      return d.some((x) => x.code === 'icr-illegal') ? d : undefined;
    }, 'the icr-illegal diagnostic', 30_000, 250);
    const illegal = diags.filter((d) => d.code === 'icr-illegal');
    assert.equal(illegal.length, 1, JSON.stringify(illegal));
    assert.equal(illegal[0].range.start.line, write.line);
    assert.equal(illegal[0].severity, vscode.DiagnosticSeverity.Error);
    assert.match(illegal[0].message, /0x00044608: start-up with the self shorthand/);
    // gcc assembles the file on open when it is installed: it must find gdt.h and have nothing to say.
    await sleep(1000);
    const others = vscode.languages.getDiagnostics(doc.uri).filter((d) => d.code !== 'icr-illegal');
    assert.deepEqual(others.map((d) => `${d.range.start.line + 1}: ${d.source} ${d.message}`), []);
  });

  suite.step('go to definition: a called label, and the included header', async () => {
    const call = find('call    delay_us').translate(0, 'call    '.length + 2);
    const defs = (await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', doc.uri, call)) ?? [];
    const target = (d: vscode.Location | vscode.LocationLink) => ('targetUri' in d ? { uri: d.targetUri, range: d.targetRange } : d);
    assert.equal(defs.length, 1, JSON.stringify(defs));
    assert.equal(target(defs[0]).uri.fsPath, doc.uri.fsPath);
    const label = Array.from({ length: doc.lineCount }, (_, l) => l).find((l) => doc.lineAt(l).text.startsWith('delay_us:'));
    assert.equal(target(defs[0]).range.start.line, label, 'the label, not the comment above it');
    const include = find('#include "gdt.h"').translate(0, 11);
    const header = (await vscode.commands.executeCommand<(vscode.Location | vscode.LocationLink)[]>('vscode.executeDefinitionProvider', doc.uri, include)) ?? [];
    assert.equal(header.length, 1, JSON.stringify(header));
    assert.equal(target(header[0]).uri.fsPath, join(folder.uri.fsPath, 'guests/common/gdt.h'));
  });

  suite.step('screenshot: the illegal ICR write decoded on hover and flagged', async () => {
    if (!driver.available) return;
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const at = find('$ICR_BAD_STARTUP_SELF, LAPIC_ICR_LO(%ebx)').translate(0, 2);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at.translate(-22), at.translate(14)), vscode.TextEditorRevealType.AtTop);
    await sleep(300);
    await vscode.commands.executeCommand('editor.action.showHover');
    await sleep(1200);
    await driver.screenshot('assembly');
  }, 60_000);

  suite.step('stopped on the illegal ICR write: VS Code draws inline values of the registers the lines read, from the vCPU', async () => {
    const api = vscode.extensions.getExtension<HyperstepApi>('hyperstep.hyperstep')!.exports;
    const write = find('$ICR_BAD_STARTUP_SELF, LAPIC_ICR_LO(%ebx)');
    const bp = new vscode.SourceBreakpoint(new vscode.Location(doc.uri, write));
    vscode.debug.addBreakpoints([bp]);
    /** The next `stopped` after `from`, once the extension (and with it VS Code) has taken it in. */
    const nextStop = async (from: number, stopsBefore: number, what: string) => {
      const stopped = await dap.event(from, 'stopped', what, 60_000);
      await until(() => { const s = api.session(); return s && !s.running && s.stops > stopsBefore && s.vcpusAtStop === s.stops; }, `the extension to take in ${what}`, 20_000).catch((e: Error) => {
        const s = api.session();
        throw new Error(`${e.message} (model: ${s ? JSON.stringify({ running: s.running, stops: s.stops, vcpusAtStop: s.vcpusAtStop, stopsBefore }) : 'none'})`);
      });
      return stopped;
    };
    const from = dap.mark();
    try {
      const started = await vscode.debug.startDebugging(folder, {
        type: DEBUG_TYPE, request: 'launch', name: 'asm-ipi (e2e)', program: `\${workspaceFolder}/${SOURCE.replace('.S', '.elf')}`,
        cwd: '${workspaceFolder}', vcpus: 4, stopOnEntry: false,
      });
      assert.ok(started, 'startDebugging');
      // Event breakpoints ticked in the Breakpoints view earlier (INIT) stay ticked: go past them.
      let mark = from;
      let stopped = await nextStop(mark, 0, 'the first stop');
      for (let k = 0; stopped.body.reason !== 'breakpoint' && k < 10; k++) {
        mark = dap.mark();
        const stops = api.session()!.stops;
        await vscode.commands.executeCommand('workbench.action.debug.continue');
        stopped = await nextStop(mark, stops, 'the stop on the breakpoint');
      }
      assert.equal(stopped.body.reason, 'breakpoint', JSON.stringify(stopped.body));
      assert.equal(stopped.body.threadId, threadIdOf(0));
      const session = vscode.debug.activeDebugSession!;
      const stack = (await session.customRequest('stackTrace', { threadId: threadIdOf(0), startFrame: 0, levels: 1 })) as { stackFrames: { id: number; line: number; source?: { path?: string } }[] };
      const top = stack.stackFrames[0];
      assert.equal(top.line, write.line + 1, 'stopped on the write');
      // (VS Code hands custom requests' paths back as remote URIs under code-server.)
      assert.ok(top.source?.path?.endsWith(`/${SOURCE}`), `in ${SOURCE}: ${top.source?.path}`);
      // VS Code itself draws the inline values: it asks the provider, then the adapter for each register.
      // (Only requests made after this stop count: one VS Code sent for an earlier stop's frame
      // can still be in flight and is refused as an unknown frame.)
      const afterStop = dap.messages.indexOf(stopped) + 1;
      let answer: { body?: { result?: string } } | undefined;
      for (let from = afterStop; answer?.body?.result === undefined;) {
        const drawn = await dap.wait(from, (m) => m.dir === 'out' && m.command === 'evaluate' && m.arguments?.context === 'watch' && m.arguments?.expression === 'ebx',
          'VS Code to evaluate EBX for an inline value', 20_000);
        const seq = (drawn as { seq?: number }).seq;
        from = dap.messages.indexOf(drawn) + 1;
        answer = await dap.wait(from - 1, (m) => m.dir === 'in' && m.type === 'response' && (m as { request_seq?: number }).request_seq === seq, 'the answer to that evaluate');
      }
      assert.equal(answer.body?.result, '0xfee00000 (4276092928)', 'EBX holds the LAPIC base');
      // The provider as VS Code calls it: the write reads EBX; lookups became expressions.
      const values = (await vscode.commands.executeCommand<vscode.InlineValue[]>('vscode.executeInlineValueProvider', doc.uri,
        new vscode.Range(write.translate(-6), write.translate(1)), { frameId: top.id, stoppedLocation: new vscode.Range(write, write) })) ?? [];
      // (The API command hands back plain objects: an expression has `expression`, a lookup `variableName`.)
      const shapes = values as { range: vscode.Range; expression?: string; variableName?: string }[];
      assert.ok(shapes.length > 0 && shapes.every((v) => typeof v.expression === 'string' && v.variableName === undefined), JSON.stringify(values));
      const onWrite = shapes.filter((v) => v.range.start.line === write.line).map((v) => v.expression);
      assert.deepEqual(onWrite, ['ebx'], `the write reads EBX: ${JSON.stringify(values)}`);
      // A sub-register, which the Registers scope does not list: the adapter still answers.
      const al = (await session.customRequest('evaluate', { expression: 'al', frameId: top.id, context: 'watch' })) as { result: string };
      assert.match(al.result, /^(\d|0x[0-9a-f]{1,2} \(\d+\))$/);
      const end = dap.mark();
      vscode.debug.removeBreakpoints([bp]);
      await vscode.commands.executeCommand('workbench.action.debug.continue');
      await dap.event(end, 'terminated', 'asm-ipi to finish', 60_000);
      const output = dap.messages.slice(from).filter((m) => m.dir === 'in' && m.event === 'output').map((m) => m.body.output as string).join('');
      assert.match(output, /asm-ipi: 3 APs started/);
      assert.match(output, /illegal ICR 00044608 \(STARTUP to self\) ignored/);
      assert.match(output, /PASS/);
    } finally {
      vscode.debug.removeBreakpoints([bp]);
    }
  }, 120_000);

  return suite;
}
