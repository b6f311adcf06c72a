// "Open SMP Sample": the folder it creates holds the guests, their sources and a launch.json
// whose configurations pass the provider's checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSample, sampleLaunchJson, SAMPLE_GUESTS } from '../../extension/sample/sample';
import { validateConfiguration } from '../../extension/debug/configuration';
import { QUIRKS } from '../../core/vmm/types';

const ROOT = join(__dirname, '../../..');

test('the sample folder has every sample guest with its sources, the shared runtime, and a launch.json', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'hyperstep-sample-')), 'sample');
  const written = createSample(join(ROOT, 'guests'), dir);
  for (const g of SAMPLE_GUESTS) {
    assert.ok(existsSync(join(dir, 'guests', g, `${g}.elf`)), g);
    assert.ok(existsSync(join(dir, 'guests', g, `${g}.c`)) || existsSync(join(dir, 'guests', g, `${g}.S`)), `${g}'s source`);
  }
  assert.ok(existsSync(join(dir, 'guests/common/trampoline.S')));
  assert.ok(existsSync(join(dir, 'guests/common/gdt.h')), 'the header asm-ipi.S includes');
  assert.ok(written.includes(join(dir, '.vscode/launch.json')));
  const launch = JSON.parse(readFileSync(join(dir, '.vscode/launch.json'), 'utf8'));
  assert.equal(launch.configurations[0].name, 'Hyperstep: SMP boot (4 vCPUs)');
  assert.equal(launch.configurations[0].stopOnEntry, true);
  for (const c of launch.configurations) {
    assert.equal(validateConfiguration(c, Object.keys(QUIRKS)), undefined);
    assert.ok(existsSync(join(dir, c.program.replace('${workspaceFolder}/', ''))), c.program);
  }
  assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /F5/);
});

test("an existing launch.json keeps the user's configurations; one with comments is left alone", () => {
  const merged = JSON.parse(sampleLaunchJson(JSON.stringify({ version: '0.2.0', configurations: [{ name: 'mine', type: 'node', request: 'launch' }] })));
  assert.equal(merged.configurations[0].name, 'mine');
  assert.ok(merged.configurations.length >= 2);
  const commented = '{ // mine\n "configurations": [] }';
  assert.equal(sampleLaunchJson(commented), commented);
  const dir = mkdtempSync(join(tmpdir(), 'hyperstep-sample-'));
  mkdirSync(join(dir, '.vscode'));
  writeFileSync(join(dir, 'README.md'), 'my readme');
  createSample(join(ROOT, 'guests'), dir);
  assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), 'my readme');
});
