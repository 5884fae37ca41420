// A TCP proxy in front of a test server that can misbehave on purpose: drop a connection after so
// many bytes, change bytes on the way, answer in the server's place, and count what passed.
import { createServer, connect, type Socket } from 'node:net';

export interface ProxyConnection {
  id: number;
  /** Bytes the server sent on this connection so far (before the current chunk). */
  fromServer: number;
  /** Bytes the client sent on this connection so far (before the current chunk). */
  fromClient: number;
}

export interface ProxyRules {
  /** Returns the bytes to pass on, or 'drop' to cut both sides of the connection now. */
  server?(conn: ProxyConnection, chunk: Buffer): Buffer | 'drop';
  /** As `server`; `{ answer }` replies to the client with those bytes instead of forwarding. */
  client?(conn: ProxyConnection, chunk: Buffer): Buffer | 'drop' | { answer: Buffer };
}

export interface TcpProxy {
  host: string;
  port: number;
  connections(): number;
  drops(): number;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, rules: ProxyRules = {}): Promise<TcpProxy> {
  let count = 0;
  let drops = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const conn: ProxyConnection = { id: ++count, fromServer: 0, fromClient: 0 };
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client).add(upstream);
    const cut = (): void => {
      drops++;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const out = rules.client ? rules.client(conn, chunk) : chunk;
      conn.fromClient += chunk.length;
      if (out === 'drop') return cut();
      if (!Buffer.isBuffer(out)) return void client.write(out.answer);
      upstream.write(out);
    });
    upstream.on('data', (chunk: Buffer) => {
      const out = rules.server ? rules.server(conn, chunk) : chunk;
      conn.fromServer += chunk.length;
      if (out === 'drop') return cut();
      client.write(out);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`,
    port,
    connections: () => count,
    drops: () => drops,
    close: () =>
      new Promise((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
