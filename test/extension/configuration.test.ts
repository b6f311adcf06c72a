// The debug configuration provider's logic: F5 without launch.json, defaults, early checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LaunchConfig, initialConfigurations, resolveConfiguration, validateConfiguration, isGuestImage, SAMPLE_PROGRAM,
} from '../../extension/debug/configuration';
import { QUIRKS } from '../../core/vmm/types';

const none = { exists: () => false };

test('F5 without launch.json launches the open guest image, stopped on entry', () => {
  const r = resolveConfiguration({}, { ...none, activeFile: '/w/guests/ipis/ipis.elf', workspaceFolder: '/w' });
  assert.ok('config' in r);
  assert.deepEqual(r.config, {
    type: 'hyperstep', request: 'launch', name: 'Hyperstep: ipis.elf', program: '/w/guests/ipis/ipis.elf', stopOnEntry: true, cwd: '/w',
  });
});

test("F5 without launch.json and without an open image launches the sample's image when the folder has it", () => {
  const r = resolveConfiguration({}, { activeFile: '/w/README.md', workspaceFolder: '/w', exists: (p) => p === `/w/${SAMPLE_PROGRAM}` });
  assert.ok('config' in r);
  assert.equal(r.config.program, `/w/${SAMPLE_PROGRAM}`);
  assert.equal(r.config.stopOnEntry, true);
});

test('F5 with nothing to run says so and offers the sample', () => {
  const r = resolveConfiguration({}, { ...none, workspaceFolder: '/w' });
  assert.ok('error' in r);
  assert.equal(r.offerSample, true);
  assert.match(r.error, /guest image/);
});

test('a launch.json configuration keeps its values; vcpus come from guest.json when left out', () => {
  const config: LaunchConfig = { type: 'hyperstep', request: 'launch', name: 'x', program: '/w/a.elf', seed: 7 };
  const r = resolveConfiguration(config, { ...none, guestVcpus: (p) => (p === '/w/a.elf' ? 4 : undefined) });
  assert.ok('config' in r);
  assert.equal(r.config.seed, 7);
  assert.equal(r.config.vcpus, 4);
  const explicit = resolveConfiguration({ ...config, vcpus: 2 }, { ...none, guestVcpus: () => 4 });
  assert.ok('config' in explicit);
  assert.equal(explicit.config.vcpus, 2);
});

test("a configuration without 'program' is refused with a message naming it", () => {
  const r = resolveConfiguration({ type: 'hyperstep', request: 'launch', name: 'x' }, none);
  assert.ok('error' in r);
  assert.match(r.error, /'program'/);
});

test('guest images are recognised by their file name', () => {
  assert.ok(isGuestImage('/a/b/smp-boot.elf'));
  assert.ok(isGuestImage('/a/KERNEL.BIN'));
  assert.ok(!isGuestImage('/a/smp-boot.c'));
});

test('validation accepts every initial configuration and names the first bad argument', () => {
  const quirks = Object.keys(QUIRKS);
  for (const c of initialConfigurations()) assert.equal(validateConfiguration(c, quirks), undefined, c.name);
  const base: LaunchConfig = { type: 'hyperstep', request: 'launch', name: 'x', program: 'a.elf' };
  const cases: [LaunchConfig, RegExp][] = [
    [{ ...base, vcpus: 0 }, /'vcpus' must be an integer from 1 to 1024, not number 0/],
    [{ ...base, vcpus: 2.5 }, /'vcpus'/],
    [{ ...base, memoryMiB: '64' as unknown as number }, /'memoryMiB' must be an integer/],
    [{ ...base, x2apic: 'yes' as unknown as boolean }, /'x2apic' must be true or false/],
    [{ ...base, format: 'pe' as never }, /'format' must be one of auto, multiboot, elf, flat/],
    [{ ...base, capabilities: ['ipi-exit', 'nmi-exit'] as never }, /'capabilities' must contain only .* not 'nmi-exit'/],
    [{ ...base, capabilities: 'ipi-exit' as never }, /'capabilities' must be an array of strings/],
    [{ ...base, quirks: ['deferred-irr-ak'] }, /'quirks' names an unknown quirk 'deferred-irr-ak'/],
    [{ ...base, flatMode: 'v86' as never }, /'flatMode'/],
    [{ ...base, vpcus: 4 }, /unknown launch argument 'vpcus'/],
  ];
  for (const [c, message] of cases) assert.match(validateConfiguration(c, quirks) ?? 'accepted', message);
  // VS Code's own keys are not launch arguments.
  assert.equal(validateConfiguration({ ...base, preLaunchTask: 'build', __sessionId: 'x', presentation: {} }, quirks), undefined);
});
