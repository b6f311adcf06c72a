// Starts the built adapter (dist/hyperstep.js dap --port 0) and connects DebugClients to it.
import { spawn, ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';

export const ROOT = join(__dirname, '../../..');
export const GUESTS = join(ROOT, 'guests');
export const CLI = join(ROOT, 'dist/hyperstep.js');

let server: { proc: ChildProcess; port: number } | null = null;

/** One adapter process serves every test (a session per connection), as `hyperstep dap --port` does. */
export async function adapterPort(): Promise<number> {
  if (server) return server.port;
  const proc = spawn(process.execPath, [CLI, 'dap', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`adapter exited (${code}): ${err}`)));
  });
  server = { proc, port };
  return port;
}

export function stopAdapter(): void {
  server?.proc.kill();
  server = null;
}

export async function connect(): Promise<DebugClient> {
  const dc = new DebugClient('node', CLI, 'hyperstep');
  dc.defaultTimeout = 20_000;
  await dc.start(await adapterPort());
  return dc;
}

/** initialize + launch; resolves after the `initialized` event. */
export async function launch(dc: DebugClient, args: Record<string, unknown>): Promise<void> {
  await dc.initializeRequest({ adapterID: 'hyperstep', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsInvalidatedEvent: true });
  await Promise.all([dc.waitForEvent('initialized'), dc.launchRequest(args as never)]);
}

export async function stopped(dc: DebugClient): Promise<{ reason: string; threadId: number; description?: string; text?: string; allThreadsStopped?: boolean; hitBreakpointIds?: number[] }> {
  const e = await dc.waitForEvent('stopped');
  return e.body;
}

export function guest(name: string): string {
  return join(GUESTS, name, `${name}.elf`);
}
