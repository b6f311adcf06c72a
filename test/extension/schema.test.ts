// package.json is the extension manifest: its launch.json schema must describe exactly the
// adapter's launch arguments (debug-adapter/protocol.ts), with the core's quirk and capability
// names, and every command a menu names must exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_ARGUMENTS, validateConfiguration, LaunchConfig } from '../../extension/debug/configuration';
import { QUIRKS, CAPABILITIES } from '../../core/vmm/types';
import { DEBUG_TYPE } from '../../debug-adapter/protocol';

const ROOT = join(__dirname, '../../..');
interface Schema { type?: string; description?: string; default?: unknown; enum?: string[]; enumDescriptions?: string[]; items?: Schema }
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const debuggerContribution = pkg.contributes.debuggers.find((d: { type: string }) => d.type === DEBUG_TYPE);
const launch = debuggerContribution.configurationAttributes.launch as { required: string[]; properties: Record<string, Schema> };

test('the manifest names the bundle, the VS Code version and the activation events', () => {
  assert.equal(pkg.main, 'dist/extension.js');
  assert.equal(pkg.engines.vscode, '^1.91.0');
  assert.ok(pkg.activationEvents.includes('onDebugResolve:hyperstep'));
  assert.ok(pkg.activationEvents.includes('onDebugDynamicConfigurations:hyperstep'));
  assert.ok(pkg.publisher, 'vsce needs a publisher');
});

test('the launch schema has exactly the launch arguments of protocol.ts, each described', () => {
  assert.deepEqual(Object.keys(launch.properties).sort(), [...LAUNCH_ARGUMENTS].sort());
  assert.deepEqual(launch.required, ['program']);
  for (const [name, s] of Object.entries(launch.properties)) {
    assert.ok(s.type, `${name} has a type`);
    assert.ok(s.description && s.description.length > 20, `${name} is described`);
    if (s.enum) assert.equal(s.enumDescriptions?.length, s.enum.length, `${name} describes each value`);
  }
});

test("the quirks enum is the core's QUIRKS, each with its explanation", () => {
  const items = launch.properties.quirks.items!;
  assert.deepEqual(items.enum, Object.keys(QUIRKS));
  assert.deepEqual(items.enumDescriptions, Object.values(QUIRKS));
});

test("the capabilities enum is the core's CAPABILITIES", () => {
  assert.deepEqual(launch.properties.capabilities.items!.enum, [...CAPABILITIES]);
});

test('every default in the schema, and every initial configuration, passes validation', () => {
  const defaults: LaunchConfig = {};
  for (const [name, s] of Object.entries(launch.properties)) if (s.default !== undefined) defaults[name] = s.default;
  assert.equal(validateConfiguration(defaults, Object.keys(QUIRKS)), undefined);
  for (const c of debuggerContribution.initialConfigurations) assert.equal(validateConfiguration(c, Object.keys(QUIRKS)), undefined);
  assert.ok(debuggerContribution.configurationSnippets.length >= 2);
});

test('breakpoints are enabled in assembly and C', () => {
  const languages = pkg.contributes.breakpoints.map((b: { language: string }) => b.language);
  assert.ok(languages.includes('asm') && languages.includes('c'));
  assert.ok(pkg.contributes.languages.some((l: { id: string; extensions: string[] }) => l.id === 'asm' && l.extensions.includes('.S')));
});

test('every command a menu or keybinding names is contributed; the vCPUs view is in Run and Debug', () => {
  const commands = new Set(pkg.contributes.commands.map((c: { command: string }) => c.command));
  for (const c of ['hyperstep.stepToNextEvent', 'hyperstep.showLapic', 'hyperstep.exportTrace', 'hyperstep.openSample', 'hyperstep.showTimeline']) {
    assert.ok(commands.has(c), c);
  }
  for (const [menu, entries] of Object.entries(pkg.contributes.menus as Record<string, { command: string }[]>)) {
    for (const e of entries) assert.ok(commands.has(e.command), `${menu}: ${e.command}`);
  }
  assert.ok(pkg.contributes.views.debug.some((v: { id: string }) => v.id === 'hyperstep.vcpus'));
});

test('the .vsix keeps the bundles, the sample guests and media, and leaves sources and tests out', () => {
  const ignore = readFileSync(join(ROOT, '.vscodeignore'), 'utf8');
  for (const keep of ['!dist/extension.js', '!dist/hyperstep.js', '!dist/timeline-webview.js', '!media/**', '!guests/smp-boot/**', '!guests/common/**', '!node_modules/iced-x86/iced_x86_bg.wasm']) {
    assert.ok(ignore.includes(keep), keep);
  }
  assert.match(ignore, /^\*\*$/m);
  for (const f of ['media/lapic.css', 'media/timeline.css', 'guests/smp-boot/smp-boot.elf']) assert.ok(existsSync(join(ROOT, f)), f);
});
