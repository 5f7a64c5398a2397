import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening and reports where, failing (rather than hanging) when the port is taken. */
export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops the server and frees its port at once: open and keep-alive connections would otherwise hold it. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
