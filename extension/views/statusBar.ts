// The status bar item: virtual time, instructions retired and seed of the active VM.
import * as vscode from 'vscode';
import type { Sessions } from '../sessions';
import { statusText, statusTooltip } from '../model/status';

export function registerStatusBar(context: vscode.ExtensionContext, sessions: Sessions): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('hyperstep.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Hyperstep VM';
  item.command = 'hyperstep.showTimeline';
  const update = (): void => {
    const status = sessions.active()?.status;
    if (!status) {
      item.hide();
      return;
    }
    item.text = statusText(status);
    item.tooltip = `${statusTooltip(status)}\n\nClick for the IPI timeline.`;
    item.show();
  };
  context.subscriptions.push(item, sessions.onDidChange(update));
  update();
  return item;
}
