// Starts the debug adapter: DAP over stdin/stdout, or a server on 127.0.0.1:PORT (one session
// per connection). `hyperstep dap [--port P]` calls this.
import { createServer, Server } from 'node:net';
import { HyperstepSession } from './session';

export function runStdio(): void {
  const session = new HyperstepSession();
  session.setRunAsServer(false);
  session.start(process.stdin, process.stdout);
}

/** Listens on 127.0.0.1 only (a debug adapter gives full control of the VM: never expose it). */
export function runServer(port: number, onListening?: (port: number) => void): Server {
  const server = createServer((socket) => {
    const session = new HyperstepSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
    socket.on('error', () => socket.destroy());
  });
  server.listen(port, '127.0.0.1', () => {
    const a = server.address();
    onListening?.(typeof a === 'object' && a ? a.port : port);
  });
  return server;
}
