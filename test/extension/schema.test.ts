// package.json is the extension manifest: its launch.json schema must describe exactly the
// adapter's launch arguments (debug-adapter/protocol.ts), with the core's quirk and capability
// names; its languages and settings must be the language server's; and every command a menu
// names must exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_ARGUMENTS, validateConfiguration, LaunchConfig } from '../../extension/debug/configuration';
import { QUIRKS, CAPABILITIES } from '../../core/vmm/types';
import { DEBUG_TYPE } from '../../debug-adapter/protocol';
import { ASM_LANGUAGES } from '../../extension/language/options';
import { SAMPLE_GUESTS } from '../../extension/sample/sample';
import { LANGUAGE_IDS, GAS_EXTENSIONS, NASM_EXTENSIONS } from '../../language-server/documents/dialect';
import { DEFAULT_ASSEMBLER } from '../../language-server/features/assembler';

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

test('breakpoints are enabled in assembly (GNU as and NASM) and C, and the debugger names the same languages', () => {
  const languages = pkg.contributes.breakpoints.map((b: { language: string }) => b.language);
  assert.deepEqual(languages, [...ASM_LANGUAGES, 'c', 'cpp']);
  assert.deepEqual(debuggerContribution.languages, [...ASM_LANGUAGES, 'c', 'cpp']);
});

test("the assembly languages are the language server's, with its file extensions, a grammar and a configuration each", () => {
  type Language = { id: string; extensions: string[]; aliases: string[]; configuration: string };
  type Grammar = { language: string; scopeName: string; path: string };
  const langs = pkg.contributes.languages as Language[];
  assert.deepEqual(langs.map((l) => l.id), [LANGUAGE_IDS.gas, LANGUAGE_IDS.nasm]);
  assert.deepEqual(langs[0].extensions, GAS_EXTENSIONS);
  assert.deepEqual(langs[1].extensions, NASM_EXTENSIONS);
  const grammars = pkg.contributes.grammars as Grammar[];
  for (const [l, scope] of [[langs[0], 'source.x86.gas'], [langs[1], 'source.x86.nasm']] as const) {
    assert.ok(l.aliases.length >= 2, `${l.id} has a display name`);
    assert.ok(existsSync(join(ROOT, l.configuration)), l.configuration);
    const g = grammars.find((x) => x.language === l.id);
    assert.ok(g, `a grammar for ${l.id}`);
    assert.equal(g.scopeName, scope);
    assert.equal(JSON.parse(readFileSync(join(ROOT, g.path), 'utf8')).scopeName, scope, g.path);
    assert.ok(pkg.activationEvents.includes(`onLanguage:${l.id}`), `activates on ${l.id}`);
  }
});

test("the hyperstep.asm settings are the language server's options, with its defaults", () => {
  const props = pkg.contributes.configuration.properties;
  assert.equal(props['hyperstep.asm.includePaths'].type, 'array');
  const assembler = props['hyperstep.asm.assembler'];
  assert.deepEqual(Object.keys(assembler.properties).sort(), Object.keys(DEFAULT_ASSEMBLER).sort());
  assert.deepEqual(assembler.default, DEFAULT_ASSEMBLER);
  for (const [k, v] of Object.entries(DEFAULT_ASSEMBLER)) assert.deepEqual(assembler.properties[k].default, v, k);
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
  for (const keep of ['!dist/extension.js', '!dist/hyperstep.js', '!dist/timeline-webview.js', '!dist/language-server.js', '!extension/syntaxes/**',
    '!extension/language-configuration/**', '!media/**', '!guests/common/**', '!node_modules/iced-x86/iced_x86_bg.wasm', ...SAMPLE_GUESTS.map((g) => `!guests/${g}/**`)]) {
    assert.ok(ignore.includes(keep), keep);
  }
  assert.match(ignore, /^\*\*$/m);
  for (const f of ['media/lapic.css', 'media/timeline.css', 'guests/smp-boot/smp-boot.elf']) assert.ok(existsSync(join(ROOT, f)), f);
});
