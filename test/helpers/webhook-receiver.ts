// A real HTTP receiver of webhooks (node:http on 127.0.0.1) whose behaviour a test scripts: answer
// 200, 500, 410, hang, or not listen at all. What it received is kept for the test to check.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { within } from './wait.js';

export interface Receipt {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type Behaviour = (request: Receipt, index: number, res: ServerResponse) => void;

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly receipts: Receipt[];
  /** Most requests it ever had open at once. */
  readonly maxConcurrent: () => number;
  close(): Promise<void>;
}

export const answer =
  (status: number, headers: Record<string, string> = {}): Behaviour =>
  (_request, _index, res) => {
    res.writeHead(status, headers);
    // A body the worker must neither store nor log.
    res.end('{"secret":"receiver internals"}');
  };

export async function startReceiver(behaviour: Behaviour, port = 0): Promise<Receiver> {
  const receipts: Receipt[] = [];
  let open = 0;
  let maxOpen = 0;
  const server: Server = createServer((req, res) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    res.on('close', () => open--);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receipt = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      receipts.push(receipt);
      behaviour(receipt, receipts.length - 1, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks/csat?tenant=t1`,
    port: bound,
    receipts,
    maxConcurrent: () => maxOpen,
    close: async () => {
      // A receiver that hangs holds its sockets open: end them, or close() never returns.
      server.closeAllConnections();
      await within(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'a receiver closing');
    },
  };
}

