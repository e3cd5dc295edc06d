// Sequential HTTP client in its own process (child_process.fork), so that its work never runs on
// the server's event loop between the server's awaits, which would bill client time to whichever
// side awaits more often. One long-lived process: its JIT is warm after the first block. node:http
// on one keep-alive socket rather than fetch: fetch's WHATWG layers add 0.1-0.2 ms of client time to
// every request, which is neither side's and would only blur the end-to-end ratio.
// Message in: { urls, headers, opener }. Message out: the end-to-end milliseconds of each URL.
import { Agent, request } from 'node:http';

interface Block {
  urls: string[];
  headers: Record<string, string>;
  /** Sent first on a fresh connection; not reported, any status. */
  opener: string;
}

const get = (url: string, headers: Record<string, string>, agent: Agent, check: boolean): Promise<void> =>
  new Promise((resolve, reject) => {
    request(url, { headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        if (check && response.statusCode !== 200) reject(new Error(`${url}: ${response.statusCode} ${Buffer.concat(chunks).toString()}`));
        else resolve();
      });
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });

process.on('message', (message: Block | 'exit') => {
  if (message === 'exit') process.exit(0);
  void (async () => {
    // One socket per block, opened by the opener: every measured request reuses it.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await get(message.opener, message.headers, agent, false);
    const latencies: number[] = [];
    for (const url of message.urls) {
      const started = performance.now();
      await get(url, message.headers, agent, true);
      latencies.push(performance.now() - started);
    }
    agent.destroy();
    process.send!(latencies);
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
