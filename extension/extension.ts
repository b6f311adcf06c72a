// Activation only wires: each concern lives in its own file (debugging, views, commands,
// sample, the assembly language client).
import * as vscode from 'vscode';
import { registerConfigurationProvider } from './debug/configurationProvider';
import { registerAdapterFactory } from './debug/adapterFactory';
import { Sessions } from './sessions';
import { VcpusView } from './views/vcpusView';
import { LapicPanel } from './views/lapicPanel';
import { TimelinePanel } from './views/timelinePanel';
import { registerStatusBar } from './views/statusBar';
import { registerCommands } from './commands';
import { openSample } from './sample/command';
import { registerLanguageClient } from './language/client';
import { createApi } from './apiImpl';
import type { HyperstepApi } from './api';

export function activate(context: vscode.ExtensionContext): HyperstepApi {
  registerConfigurationProvider(context);
  registerAdapterFactory(context);
  registerLanguageClient(context);

  const sessions = new Sessions();
  const vcpus = new VcpusView(sessions);
  const lapic = new LapicPanel(context, sessions);
  const timeline = new TimelinePanel(context, sessions, (vcpu) => void vcpus.reveal(vcpu));
  context.subscriptions.push(sessions, vcpus, lapic, timeline);

  registerStatusBar(context, sessions);
  registerCommands(context, sessions, { vcpus, lapic, timeline });
  context.subscriptions.push(vscode.commands.registerCommand('hyperstep.openSample', (target?: vscode.Uri | string) => openSample(context, target)));

  return createApi(sessions, { vcpus, lapic, timeline });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
