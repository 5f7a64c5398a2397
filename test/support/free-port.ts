import { createServer } from 'node:http';
import { closeServer, listen } from '../../src/http/server-lifecycle';

/** A loopback port nothing listens on right now, for a process that insists on being told one. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const { port } = await listen(server, 0, '127.0.0.1');
  await closeServer(server);
  return port;
}
