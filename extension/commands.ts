// The extension's commands: Step to Next Event, Show LAPIC, Export Trace, Show IPI Timeline,
// Refresh vCPUs (Open SMP Sample lives with the sample). Each takes an optional argument so
// menus (a vCPU row), other extensions and tests can call it without prompts.
import * as vscode from 'vscode';
import { DEBUG_TYPE, threadIdOf, vcpuOf } from '../debug-adapter/protocol';
import type { ExportTraceResponseBody, StepTargetKind } from '../debug-adapter/protocol';
import type { Sessions } from './sessions';
import type { VcpusView } from './views/vcpusView';
import type { LapicPanel } from './views/lapicPanel';
import type { TimelinePanel } from './views/timelinePanel';
import { vcpuOfArgument } from './model/arguments';

export interface Views {
  vcpus: VcpusView;
  lapic: LapicPanel;
  timeline: TimelinePanel;
}

/** What the step targets are called in the picker. */
export const STEP_TARGETS: { target: StepTargetKind; label: string; detail: string }[] = [
  { target: 'exit', label: 'Next VM exit', detail: 'run until this vCPU leaves the guest (HLT, MMIO, I/O, MSR, INIT, SIPI, ...)' },
  { target: 'ipi-send', label: 'Next IPI sent', detail: 'run until this vCPU writes the ICR (or SELF IPI)' },
  { target: 'ipi-deliver', label: 'Next IPI delivered', detail: 'run until an IPI reaches this vCPU' },
  { target: 'state', label: 'Next state change', detail: 'run until this vCPU changes state (wait-for-SIPI, running, HLT, ...)' },
];

export function registerCommands(context: vscode.ExtensionContext, sessions: Sessions, views: Views): void {
  /** The vCPU a command is about: its argument, the focused thread, the selected row, the stopped thread. */
  const targetVcpu = (arg: unknown): number => {
    const given = vcpuOfArgument(arg);
    if (given !== undefined) return given;
    const item = vscode.debug.activeStackItem;
    if (item && item.session.type === DEBUG_TYPE && item.threadId > 0) return vcpuOf(item.threadId);
    if (views.vcpus.selectedVcpu !== undefined) return views.vcpus.selectedVcpu;
    const stopped = sessions.active()?.lastStop?.threadId;
    return stopped !== undefined ? vcpuOf(stopped) : 0;
  };
  const needSession = (): vscode.DebugSession | undefined => {
    const s = sessions.activeSession();
    if (!s) void vscode.window.showWarningMessage('Hyperstep: no Hyperstep debug session is active.');
    return s;
  };
  const run = (fn: () => Promise<unknown>) => async () => {
    try {
      return await fn();
    } catch (e) {
      void vscode.window.showErrorMessage(`Hyperstep: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };

  context.subscriptions.push(
    vscode.commands.registerCommand('hyperstep.stepToNextEvent', (arg?: unknown, kindArg?: StepTargetKind) => run(async () => {
      const session = needSession();
      if (!session) return;
      const vcpu = targetVcpu(arg);
      let kind = kindArg;
      if (!kind) {
        const pick = await vscode.window.showQuickPick(STEP_TARGETS.map((t) => ({ ...t, description: t.target })), {
          title: `Hyperstep: step vCPU ${vcpu} to its next…`,
        });
        if (!pick) return;
        kind = pick.target;
      }
      await session.customRequest('hyperstep/stepToEvent', { threadId: threadIdOf(vcpu), kind });
    })()),
    vscode.commands.registerCommand('hyperstep.showLapic', (arg?: unknown) => run(async () => {
      if (!needSession()) return;
      await views.lapic.show(targetVcpu(arg));
    })()),
    vscode.commands.registerCommand('hyperstep.exportTrace', (pathArg?: string | vscode.Uri) => run(async () => {
      const session = needSession();
      if (!session) return;
      let path = typeof pathArg === 'string' ? pathArg : pathArg?.fsPath;
      if (!path) {
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
        const uri = await vscode.window.showSaveDialog({
          title: 'Hyperstep: export the event trace (JSON lines)',
          defaultUri: folder ? vscode.Uri.joinPath(folder, 'hyperstep-trace.jsonl') : undefined,
          filters: { 'JSON lines': ['jsonl'], 'All files': ['*'] },
        });
        if (!uri) return;
        path = uri.fsPath;
      }
      const r = (await session.customRequest('hyperstep/exportTrace', { path })) as ExportTraceResponseBody;
      void vscode.window.showInformationMessage(`Hyperstep: exported ${r.events} events to ${r.path}.`, 'Open').then((open) => {
        if (open) void vscode.window.showTextDocument(vscode.Uri.file(r.path));
      });
      return r;
    })()),
    vscode.commands.registerCommand('hyperstep.showTimeline', () => views.timeline.show()),
    vscode.commands.registerCommand('hyperstep.refreshVcpus', () => sessions.refresh()),
    vscode.commands.registerCommand('hyperstep.revealVcpu', (arg?: unknown) => {
      const vcpu = vcpuOfArgument(arg);
      if (vcpu !== undefined) void views.vcpus.reveal(vcpu);
    }),
  );
}
