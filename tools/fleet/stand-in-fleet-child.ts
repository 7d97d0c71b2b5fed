/**
 * Child process holding many TF Serving stand-ins (one per loopback host, port 8501), so that
 * their CPU time is not counted on the event loop of the registry being measured. Driven over IPC.
 */
import { isLoopback } from '../../functions/adapters/tfserving/tfserving-client.ts';
import { type Misbehaviour, type ModelSeed, TfServingStandIn } from '../tfserving-stand-in/stand-in.ts';

interface StartMessage {
  readonly type: 'start';
  readonly hosts: readonly string[];
  readonly models: Readonly<Record<string, ModelSeed>>;
}

interface MisbehaveMessage {
  readonly type: 'misbehave';
  readonly hosts: readonly string[];
  readonly mode: Misbehaviour;
}

/** `die`: stop listening, refuse connections (a silent death); `revive`: listen again. */
interface LifeMessage {
  readonly type: 'die' | 'revive';
  readonly hosts: readonly string[];
}

const stands: TfServingStandIn[] = [];
const byHost = new Map<string, TfServingStandIn>();

async function start(message: StartMessage) {
  const bad = message.hosts.find((host) => !isLoopback(host));
  if (bad !== undefined) throw new Error(`refusing a non-loopback stand-in host: ${bad}`);
  const t0 = performance.now();
  for (let i = 0; i < message.hosts.length; i += 500) {
    const batch = message.hosts.slice(i, i + 500);
    stands.push(
      ...(await Promise.all(batch.map((host) => TfServingStandIn.start({ host, models: message.models })))),
    );
  }
  for (const stand of stands) byHost.set(stand.host, stand);
  return Math.round(performance.now() - t0);
}

async function closeAll() {
  await Promise.all(stands.map((s) => s.close()));
}

type Message = StartMessage | MisbehaveMessage | LifeMessage | { type: 'memory' } | { type: 'close' };

process.on('message', (message: Message) => {
  if (message.type === 'start') {
    start(message).then(
      (ms) => process.send?.({ type: 'started', ms, count: stands.length }),
      (error: Error) => process.send?.({ type: 'error', message: error.message }),
    );
  } else if (message.type === 'misbehave') {
    for (const host of message.hosts) byHost.get(host)?.misbehave(message.mode);
    process.send?.({ type: 'misbehaving', count: message.hosts.length });
  } else if (message.type === 'die' || message.type === 'revive') {
    const { type, hosts } = message;
    Promise.all(hosts.map((host) => byHost.get(host)?.[type]())).then(
      () => process.send?.({ type: `${type}-done`, count: hosts.length }),
      (error: Error) => process.send?.({ type: 'error', message: error.message }),
    );
  } else if (message.type === 'memory') {
    // maxRSS is the peak since the process started, in KiB.
    process.send?.({
      type: 'memory',
      rssBytes: process.memoryUsage.rss(),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    });
  } else {
    closeAll().finally(() => process.exit(0));
  }
});
// The parent went away: do not linger.
process.on('disconnect', () => {
  closeAll().finally(() => process.exit(0));
});
process.send?.({ type: 'ready' });
