import { createServer as listen, type Server } from 'node:net';

/** A TCP listener that only counts connections: any byte of a request sent to it would be a leak. */
export async function connectionCounter(): Promise<{ origin: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = listen((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
