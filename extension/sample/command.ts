// The "Hyperstep: Open SMP Sample" command: asks where, fills the folder (sample.ts), opens it.
import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createSample } from './sample';

export const SAMPLE_FOLDER_NAME = 'hyperstep-smp-sample';

/**
 * `target`: a folder to fill (tests, or another extension); without it the user picks a parent
 * folder. A target that is already the open workspace folder is filled in place, not reopened.
 */
export async function openSample(context: vscode.ExtensionContext, target?: vscode.Uri | string): Promise<string | undefined> {
  let folder: string | undefined = typeof target === 'string' ? target : target?.fsPath;
  if (!folder) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true, canSelectFiles: false, canSelectMany: false,
      openLabel: 'Create the sample here',
      title: `Hyperstep: where to create the "${SAMPLE_FOLDER_NAME}" folder`,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(homedir()),
    });
    if (!picked?.[0]) return undefined;
    folder = join(picked[0].fsPath, SAMPLE_FOLDER_NAME);
  }
  createSample(context.asAbsolutePath('guests'), folder);
  const open = vscode.workspace.workspaceFolders?.some((f) => f.uri.fsPath === folder);
  if (open) {
    await vscode.window.showTextDocument(vscode.Uri.file(join(folder, 'guests', 'smp-boot', 'smp-boot.c')), { preview: true, preserveFocus: true });
  } else {
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(folder), { forceNewWindow: false });
  }
  return folder;
}
