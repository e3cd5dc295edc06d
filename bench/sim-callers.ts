// Child process of bench/controller.bench.ts: the ARI simulator plus scripted callers, kept out of
// the engine's process so their CPU does not count against it.
import { AriSimulator, type SimChannel } from '../test/ari-sim/simulator.js';

const QUESTION_MS = 2000; // per file; the question is two files
const sim = await new AriSimulator({
  username: 'csat',
  password: 'secret',
  mediaMs: (uri) => (uri.startsWith('sound:bench/q') ? QUESTION_MS : uri.startsWith('digits:') ? 300 : 500),
}).start();

const onQuestion = new Map<string, (channel: SimChannel) => void>();
const onConfirm = new Map<string, () => void>();
sim.onPlaybackStarted.add((channel, media) => {
  if (media[0] === 'sound:bench/q1') onQuestion.get(channel.id)?.(channel);
  else if (media[0] === 'sound:bench/you-pressed') onConfirm.get(channel.id)?.();
});

interface Run {
  kind: 'run';
  prefix: string;
  calls: number;
  arrivalMs: number;
}

process.on('message', (message: Run | { kind: 'stop' }) => {
  if (message.kind === 'stop') {
    void sim.close().then(() => process.exit(0));
    return;
  }
  const started = Date.now();
  const reactionMs: number[] = [];
  const endings: Record<string, number> = {};
  const calls = Array.from({ length: message.calls }, (_, i) =>
    new Promise<void>((resolve) => {
      setTimeout(() => {
        const channel = sim.enterStasis({ args: [`${message.prefix}-${i}`, `agent-${i % 200}`, `queue-${i % 10}`] });
        onQuestion.set(channel.id, () => {
          onQuestion.delete(channel.id);
          // One key, between 1.0 and 3.5 s into the 4 s question: every survey is live at once.
          setTimeout(() => {
            const pressedAt = performance.now();
            onConfirm.set(channel.id, () => {
              onConfirm.delete(channel.id);
              reactionMs.push(performance.now() - pressedAt);
            });
            sim.press(channel, String(1 + (i % 5)));
          }, 1000 + ((i * 37) % 2500));
        });
        void channel.ended.then((how) => {
          endings[how] = (endings[how] ?? 0) + 1;
          onQuestion.delete(channel.id);
          onConfirm.delete(channel.id);
          sim.channels.delete(channel.id);
          resolve();
        });
      }, (i / message.calls) * message.arrivalMs);
    }),
  );
  void Promise.all(calls).then(() => process.send!({ kind: 'done', wallMs: Date.now() - started, endings, reactionMs }));
});

process.send!({ kind: 'ready', url: sim.url });
