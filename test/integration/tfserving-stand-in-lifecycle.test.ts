// The stand-in's model lifecycle: seeds, text commands (command() and POST /_stand-in) and the
// command line's --loading / --failed, over real HTTP on loopback addresses 127.0.12.x:8501.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { within } from '../support/kit/poll.ts';
import { standInsOn } from '../support/kit/stand-ins.ts';

const PORT = 8501;
const standIns = standInsOn(12, { port: PORT });
const MISSING_SAVED_MODEL = (model: string, version: string) =>
  `Could not find SavedModel .pb or .pbtxt at supplied export directory path: /models/${model}/${version}`;

interface StatusEntry {
  version: string;
  state: string;
  status: { error_code: string; error_message: string };
}

function entry(version: string, state: string, errorCode = 'OK', errorMessage = ''): StatusEntry {
  return { version, state, status: { error_code: errorCode, error_message: errorMessage } };
}

async function status(url: string, model: string): Promise<StatusEntry[]> {
  const response = await fetch(`${url}/v1/models/${model}`);
  return ((await response.json()) as { model_version_status: StatusEntry[] }).model_version_status;
}

async function control(url: string, commands: string, method = 'POST') {
  const response = await fetch(`${url}/_stand-in`, method === 'GET' ? {} : { method, body: commands });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('TF Serving stand-in model lifecycle', () => {
  describe('seeds', () => {
    it('starts versions LOADING, failed (END with NOT_FOUND) and AVAILABLE side by side, newest first', async () => {
      // Prepare + Act
      const standIn = await standIns.start({
        models: { resnet: { available: ['1'], loading: ['2'], failed: ['3'] } },
      });

      // Assess
      expect(await status(standIn.url, 'resnet')).toEqual([
        entry('3', 'END', 'NOT_FOUND', MISSING_SAVED_MODEL('resnet', '3')),
        entry('2', 'LOADING'),
        entry('1', 'AVAILABLE'),
      ]);
      expect(standIn.describe()).toBe('resnet: 3 END NOT_FOUND, 2 LOADING, 1 AVAILABLE');
    });

    it('puts the history of unloaded versions below the oldest seeded version, whatever its state', async () => {
      // Prepare + Act
      const standIn = await standIns.start({ models: { resnet: { loading: ['5'], history: 2 } } });

      // Assess
      expect((await status(standIn.url, 'resnet')).map((e) => `${e.version} ${e.state}`)).toEqual([
        '5 LOADING',
        '4 END',
        '3 END',
      ]);
    });
  });

  describe('commands', () => {
    it('walks a new version through LOADING to AVAILABLE beside the old one, then unloads the old one', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });

      // Act
      const loading = standIn.command('load resnet 2');
      const both = standIn.command('available resnet 2');
      const rolled = standIn.command('unload resnet 1');

      // Assess: TF Serving keeps an unloaded version listed, END with OK.
      expect([loading, both, rolled]).toEqual([
        'resnet: 2 LOADING, 1 AVAILABLE',
        'resnet: 2 AVAILABLE, 1 AVAILABLE',
        'resnet: 2 AVAILABLE, 1 END',
      ]);
      expect(await status(standIn.url, 'resnet')).toEqual([entry('2', 'AVAILABLE'), entry('1', 'END')]);
    });

    it('fails a load with NOT_FOUND and the missing-SavedModel message, or with the code and message given', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });

      // Act
      standIn.command('fail resnet 2\nfail resnet 3 RESOURCE_EXHAUSTED "Out of memory while loading"');
      standIn.command('fail resnet 4 the disk resnet was on went away');

      // Assess
      expect(await status(standIn.url, 'resnet')).toEqual([
        entry('4', 'END', 'NOT_FOUND', 'the disk resnet was on went away'),
        entry('3', 'END', 'RESOURCE_EXHAUSTED', 'Out of memory while loading'),
        entry('2', 'END', 'NOT_FOUND', MISSING_SAVED_MODEL('resnet', '2')),
        entry('1', 'AVAILABLE'),
      ]);
    });

    it('ends every version of a removed model with OK, still answering 200, and points labels', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { resnet: { available: ['1'], loading: ['2'] } } });

      // Act
      standIn.command('label resnet stable 1');
      const metadata = await fetch(`${standIn.url}/v1/models/resnet/labels/stable/metadata`);
      const removed = standIn.command('remove resnet');

      // Assess
      expect(((await metadata.json()) as { model_spec: { version: string } }).model_spec.version).toBe('1');
      expect(removed).toBe('resnet: 2 END, 1 END (stable=1)');
      expect(await status(standIn.url, 'resnet')).toEqual([entry('2', 'END'), entry('1', 'END')]);
    });

    it('misbehaves and stops misbehaving on command', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });

      // Act
      standIn.command('misbehave http-500');
      const broken = await fetch(`${standIn.url}/v1/models/resnet`);
      standIn.command('misbehave none');
      const healed = await fetch(`${standIn.url}/v1/models/resnet`);

      // Assess
      expect(broken.status).toBe(500);
      expect(healed.status).toBe(200);
    });

    it.each([
      ['dance resnet 1', /"dance resnet 1": unknown command "dance": expected load, available/],
      ['load resnet', /expected load <model> <version>/],
      ['available resnet 1 2', /expected available <model> <version>/],
      ['unload resnet two', /Invalid model version "two"/],
      ['fail resnet 3 OK', /a failed load's code is not OK/],
      ['misbehave explode', /one of none, hang, http-500/],
      ['# only a comment', /No command given/],
    ])('refuses %j with a RangeError naming the line and what is allowed', async (text, message) => {
      // Prepare
      const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });

      // Act + Assess
      expect(() => standIn.command(text)).toThrow(RangeError);
      expect(() => standIn.command(text)).toThrow(message);
    });

    it('checks every line of a batch before applying any', async () => {
      // Prepare
      const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });

      // Act
      const attempt = () => standIn.command('load resnet 2\nunload resnet 1\nload resnet x');

      // Assess
      expect(attempt).toThrow(/"load resnet x"/);
      expect(await status(standIn.url, 'resnet')).toEqual([entry('1', 'AVAILABLE')]);
    });
  });

  describe('POST /_stand-in', () => {
    it('applies the same commands over HTTP and answers the resulting state as text', async () => {
      // Prepare
      const standIn = await standIns.start({ control: true, models: { resnet: { available: ['1'] } } });

      // Act
      const answer = await control(standIn.url, '# roll out 2\nload resnet 2\navailable resnet 2\n');

      // Assess
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(answer.text).toBe('resnet: 2 LOADING, 1 AVAILABLE\nresnet: 2 AVAILABLE, 1 AVAILABLE\n');
      expect(await status(standIn.url, 'resnet')).toEqual([entry('2', 'AVAILABLE'), entry('1', 'AVAILABLE')]);
    });

    it('answers a bad command with 400 and the reason, changing nothing', async () => {
      // Prepare
      const standIn = await standIns.start({ control: true, models: { resnet: { available: ['1'] } } });

      // Act
      const answer = await control(standIn.url, 'unload resnet 1\nexplode');

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('"explode": unknown command');
      expect(await status(standIn.url, 'resnet')).toEqual([entry('1', 'AVAILABLE')]);
    });

    it('lists the commands and the current state on GET, and answers other methods 405 with Allow', async () => {
      // Prepare
      const standIn = await standIns.start({ control: true, models: { resnet: { loading: ['3'] } } });

      // Act
      const help = await control(standIn.url, '', 'GET');
      const put = await control(standIn.url, 'load resnet 4', 'PUT');

      // Assess
      expect(help.status).toBe(200);
      expect(help.text).toContain('fail <model> <version> [CODE] [text]');
      expect(help.text).toContain('Now:\nresnet: 3 LOADING\n');
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, POST');
    });

    it('answers while misbehaving, and is neither logged as a request nor misbehaved on', async () => {
      // Prepare
      const standIn = await standIns.start({ control: true, models: { resnet: { available: ['1'] } } });
      standIn.misbehave('hang');

      // Act
      const answer = await control(standIn.url, 'misbehave none');
      const real = await fetch(`${standIn.url}/v1/models/resnet`);

      // Assess
      expect(answer).toMatchObject({ status: 200, text: 'answering for real\n' });
      expect(real.status).toBe(200);
      expect(standIn.requests.paths).toEqual(['/v1/models/resnet']);
    });

    it("is not there unless asked for: /_stand-in is TF Serving's 404 page by default", async () => {
      // Prepare
      const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });

      // Act
      const answer = await control(standIn.url, 'unload resnet 1');

      // Assess
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-type')).toBe('text/html');
      expect(await status(standIn.url, 'resnet')).toEqual([entry('1', 'AVAILABLE')]);
    });
  });

  describe('command line', () => {
    it('starts versions with --loading and --failed, takes commands over HTTP and prints each with its state', async () => {
      // Prepare
      const host = standIns.nextHost();
      const url = `http://${host}:${PORT}`;
      const { child, stdout } = standIns.run([
        ...['--host', host, '--model', 'resnet:1', '--loading', 'resnet:2', '--failed', 'bert:7'],
        ...['--label', 'bert:canary=7'],
      ]);
      await within(
        20_000,
        () => stdout().includes('Commands:') || child.exitCode !== null,
        'the start lines',
      );

      // Act
      const seeded = [await status(url, 'resnet'), await status(url, 'bert')];
      const answer = await control(url, 'available resnet 2');
      await within(5_000, () => stdout().includes('available resnet 2\n'), 'the command echoed');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [exitCode] = await exited;

      // Assess
      expect(stdout()).toContain(
        `listening on ${url}, resnet: 2 LOADING, 1 AVAILABLE; bert: 7 END NOT_FOUND (canary=7)`,
      );
      expect(stdout()).toContain(`Commands: curl -d 'load <model> <version>' ${url}/_stand-in`);
      expect(seeded).toEqual([
        [entry('2', 'LOADING'), entry('1', 'AVAILABLE')],
        [entry('7', 'END', 'NOT_FOUND', MISSING_SAVED_MODEL('bert', '7'))],
      ]);
      expect(answer).toMatchObject({ status: 200, text: 'resnet: 2 AVAILABLE, 1 AVAILABLE\n' });
      expect(stdout()).toContain(`${host}: available resnet 2\n  resnet: 2 AVAILABLE, 1 AVAILABLE\n`);
      expect(exitCode).toBe(0);
    });

    it('exits 2 naming the flag for a bad --loading or --failed', async () => {
      // Prepare
      const { child, stderr } = standIns.run(['--failed', 'resnet:x']);

      // Act
      const [exitCode] = await once(child, 'exit');

      // Assess
      expect(exitCode).toBe(2);
      expect(stderr()).toContain('--failed resnet:x: expected name:versions');
    });
  });
});
