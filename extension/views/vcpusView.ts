// The "vCPUs" view in Run and Debug: a row per vCPU (lifecycle state, mode, RIP/symbol) with
// its TPR/PPR, pending and in-service vectors and last exit below it. model/vcpus.ts says what
// each row reads; this file renders it and follows the selection.
import * as vscode from 'vscode';
import { threadIdOf } from '../../debug-adapter/protocol';
import type { Sessions } from '../sessions';
import { VcpuDetail, VcpuItem, vcpuItems } from '../model/vcpus';

type Node = VcpuItem | (VcpuDetail & { parent: VcpuItem });

export const VCPUS_VIEW = 'hyperstep.vcpus';

function isVcpu(n: Node): n is VcpuItem {
  return (n as VcpuItem).details !== undefined;
}

export class VcpusView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private items: VcpuItem[] = [];
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly tree: vscode.TreeView<Node>;
  /** The vCPU last selected here or revealed from the timeline. */
  selectedVcpu: number | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly sessions: Sessions) {
    this.tree = vscode.window.createTreeView(VCPUS_VIEW, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.tree, this.changed,
      sessions.onDidChange(() => this.update()),
      this.tree.onDidChangeSelection((e) => {
        const n = e.selection[0];
        if (n) void this.select(isVcpu(n) ? n : n.parent);
      }),
    );
    this.update();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** What the view shows now (for the end-to-end test and the commands). */
  current(): readonly VcpuItem[] {
    return this.items;
  }

  private update(): void {
    const model = this.sessions.active();
    this.items = model ? vcpuItems(model.vcpus) : [];
    this.tree.message = !model ? 'Start a Hyperstep debug session to see its vCPUs.'
      : model.vcpus.length === 0 ? (model.running ? 'Running… (the vCPUs show when it stops)' : 'Waiting for the VM…') : undefined;
    this.tree.description = model?.status ? `${model.status.vcpus} vCPUs · ${model.running ? 'running' : 'stopped'}` : undefined;
    this.changed.fire(undefined);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (isVcpu(n)) {
      const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `vcpu-${n.vcpu}`;
      item.description = n.description;
      item.tooltip = n.tooltip;
      item.iconPath = new vscode.ThemeIcon(n.icon, n.iconColor ? new vscode.ThemeColor(n.iconColor) : undefined);
      item.contextValue = 'hyperstep.vcpu';
      return item;
    }
    const item = new vscode.TreeItem(n.label, vscode.TreeItemCollapsibleState.None);
    item.id = `vcpu-${n.parent.vcpu}-${n.label}`;
    item.description = n.value;
    item.tooltip = n.tooltip ?? `${n.label}: ${n.value}`;
    item.contextValue = 'hyperstep.vcpuDetail';
    return item;
  }

  getChildren(n?: Node): Node[] {
    if (!n) return this.items;
    return isVcpu(n) ? n.details.map((d) => ({ ...d, parent: n })) : [];
  }

  getParent(n: Node): Node | undefined {
    return isVcpu(n) ? undefined : n.parent;
  }

  /** Selects a vCPU's row (from the timeline) and shows where its thread is. */
  async reveal(vcpu: number): Promise<void> {
    const item = this.items.find((i) => i.vcpu === vcpu);
    this.selectedVcpu = vcpu;
    if (item) await this.tree.reveal(item, { select: true, focus: false, expand: true });
    else await this.select(undefined, vcpu);
  }

  /**
   * VS Code's API cannot move the Call Stack's focus, so selecting a vCPU remembers it as the
   * target of the vCPU commands and opens the source of its thread's top frame.
   */
  private async select(item: VcpuItem | undefined, vcpu = item?.vcpu): Promise<void> {
    if (vcpu === undefined) return;
    this.selectedVcpu = vcpu;
    const session = this.sessions.activeSession();
    const model = this.sessions.active();
    if (!session || !model || model.running) return;
    try {
      const r = (await session.customRequest('stackTrace', { threadId: threadIdOf(vcpu), startFrame: 0, levels: 1 })) as
        { stackFrames?: { line: number; column: number; source?: { path?: string } }[] };
      const top = r.stackFrames?.find((f) => f.source?.path);
      if (top?.source?.path) {
        const pos = new vscode.Position(Math.max(0, top.line - 1), Math.max(0, top.column - 1));
        await vscode.window.showTextDocument(vscode.Uri.file(top.source.path), { selection: new vscode.Range(pos, pos), preserveFocus: true, preview: true });
      }
    } catch {
      // No source for this frame (a vmm frame, or no debug info): nothing to open.
    }
  }
}
