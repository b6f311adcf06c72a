// F5 without launch.json, defaults, and early checks of launch.json: configuration.ts decides,
// this file only connects it to VS Code.
import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEBUG_TYPE } from '../../debug-adapter/protocol';
import { LaunchConfig, initialConfigurations, resolveConfiguration, validateConfiguration } from './configuration';

/** The quirk names the schema lists (package.json), so a typo fails before the VM starts. */
function knownQuirks(context: vscode.ExtensionContext): string[] | undefined {
  const debuggers = (context.extension.packageJSON as { contributes?: { debuggers?: { type: string; configurationAttributes?: { launch?: { properties?: { quirks?: { items?: { enum?: string[] } } } } } }[] } })
    .contributes?.debuggers;
  return debuggers?.find((d) => d.type === DEBUG_TYPE)?.configurationAttributes?.launch?.properties?.quirks?.items?.enum;
}

/** vcpus from the guest.json beside an image (the bundled guests say how many they are meant for). */
function guestVcpus(program: string): number | undefined {
  try {
    const json = JSON.parse(readFileSync(join(dirname(program), 'guest.json'), 'utf8')) as { vcpus?: unknown };
    return typeof json.vcpus === 'number' ? json.vcpus : undefined;
  } catch {
    return undefined;
  }
}

function activeFile(): string | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom ? input.uri : undefined;
  return uri?.scheme === 'file' ? uri.fsPath : undefined;
}

export class HyperstepConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly context: vscode.ExtensionContext) {}

  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return initialConfigurations() as vscode.DebugConfiguration[];
  }

  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    const r = resolveConfiguration(config as LaunchConfig, {
      activeFile: activeFile(),
      workspaceFolder: (folder ?? vscode.workspace.workspaceFolders?.[0])?.uri.fsPath,
      exists: existsSync,
    });
    if ('error' in r) {
      if (r.offerSample) {
        const pick = await vscode.window.showInformationMessage(r.error, 'Open SMP Sample');
        if (pick) await vscode.commands.executeCommand('hyperstep.openSample');
      } else {
        void vscode.window.showErrorMessage(r.error);
      }
      return undefined;
    }
    return r.config as vscode.DebugConfiguration;
  }

  resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const c = config as LaunchConfig;
    if (c.vcpus === undefined && typeof c.program === 'string') {
      const cwd = typeof c.cwd === 'string' ? c.cwd : folder?.uri.fsPath;
      const n = guestVcpus(cwd && !c.program.startsWith('/') ? join(cwd, c.program) : c.program);
      if (n !== undefined) c.vcpus = n;
    }
    const problem = validateConfiguration(c, knownQuirks(this.context));
    if (problem) {
      void vscode.window.showErrorMessage(problem);
      return undefined;
    }
    return c as vscode.DebugConfiguration;
  }
}

export function registerConfigurationProvider(context: vscode.ExtensionContext): void {
  const provider = new HyperstepConfigurationProvider(context);
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
  );
}
