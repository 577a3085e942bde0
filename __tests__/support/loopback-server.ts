// One HTTP server on 127.0.0.1 and a random port, for the stand-ins of remote services: it reads
// each request's body whole, hands it to one handler and writes what the handler answers (a
// handler that throws answers 500 with the message).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handle = (req: IncomingMessage, body: Buffer) => Promise<Reply> | Reply;

export interface LoopbackServer {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

export function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value), contentType: 'application/json' };
}

export async function listen(handle: Handle): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve()
        .then(() => handle(req, Buffer.concat(chunks)))
        .catch((e: unknown): Reply => ({ status: 500, body: e instanceof Error ? e.message : String(e) }))
        .then((r) => {
          const headers: Record<string, string> = { ...r.headers };
          if (r.contentType) headers['Content-Type'] = r.contentType;
          res.writeHead(r.status, headers);
          res.end(r.body);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}
