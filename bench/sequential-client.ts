// Sequential HTTP client in its own process (child_process.fork), so that its work never runs on
// the server's event loop between the server's awaits, which would bill client time to whichever
// side awaits more often. One long-lived process: its JIT is warm after the first block.
// Message in: { urls, headers, opener }. Message out: the end-to-end milliseconds of each URL.

interface Block {
  urls: string[];
  headers: Record<string, string>;
  /** Sent first on a fresh connection; not reported, any status. */
  opener: string;
}

const get = async (url: string, headers: Record<string, string>): Promise<void> => {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${body}`);
};

process.on('message', (message: Block | 'exit') => {
  if (message === 'exit') process.exit(0);
  void (async () => {
    await (await fetch(message.opener, { headers: message.headers })).arrayBuffer();
    const latencies: number[] = [];
    for (const url of message.urls) {
      const started = performance.now();
      await get(url, message.headers);
      latencies.push(performance.now() - started);
    }
    process.send!(latencies);
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
});
