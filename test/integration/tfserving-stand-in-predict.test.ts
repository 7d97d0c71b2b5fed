// The TF Serving stand-in's `:predict` (reference §3) over real HTTP on loopback addresses
// 127.0.11.x, port 8501: TF Serving's half_plus_two example model (y = 0.5 x + 2).
import { describe, expect, it } from 'vitest';
import { HALF_PLUS_TWO, type TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { within } from '../support/kit/poll.ts';
import { standInsOn } from '../support/kit/stand-ins.ts';

const standIns = standInsOn(11, {
  models: { [HALF_PLUS_TWO]: { available: ['1', '2'], labels: { stable: '1' } } },
});

async function post(standIn: TfServingStandIn, path: string, body: unknown) {
  const response = await fetch(`${standIn.url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), text };
}

const errorOf = (reply: { text: string }) => (JSON.parse(reply.text) as { error: string }).error;

describe('TF Serving stand-in :predict', () => {
  it('predicts y = 0.5 x + 2 for instances, printed as TF Serving prints it', async () => {
    // Prepare
    const standIn = await standIns.start();

    // Act
    const reply = await post(standIn, '/v1/models/half_plus_two:predict', { instances: [1.0, 2.0, 5.0] });

    // Assess
    expect(reply.status).toBe(200);
    expect(reply.type).toBe('application/json');
    expect(reply.text).toBe('{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}');
    expect(JSON.parse(reply.text)).toEqual({ predictions: [2.5, 3.0, 4.5] });
  });

  it.each([
    ['named instances', { instances: [{ x: 1 }, { x: -4 }] }, { predictions: [2.5, 0] }],
    ['the columnar form', { inputs: [1, 2, 5] }, { outputs: [2.5, 3, 4.5] }],
    ['a named columnar input', { inputs: { x: [0.5] } }, { outputs: [2.25] }],
    [
      'the default signature by name',
      { signature_name: 'serving_default', instances: [3] },
      { predictions: [3.5] },
    ],
    ['no instances', { instances: [] }, { predictions: [] }],
  ])('answers %s', async (_, body, expected) => {
    // Prepare
    const standIn = await standIns.start();

    // Act
    const reply = await post(standIn, '/v1/models/half_plus_two:predict', body);

    // Assess
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual(expected);
  });

  it('predicts with a given version or label, and refuses an unknown one as TF Serving does', async () => {
    // Prepare
    const standIn = await standIns.start();
    const body = { instances: [2] };

    // Act
    const version = await post(standIn, '/v1/models/half_plus_two/versions/2:predict', body);
    const label = await post(standIn, '/v1/models/half_plus_two/labels/stable:predict', body);
    const missingVersion = await post(standIn, '/v1/models/half_plus_two/versions/9:predict', body);
    const missingLabel = await post(standIn, '/v1/models/half_plus_two/labels/nope:predict', body);

    // Assess
    expect([version.status, label.status]).toEqual([200, 200]);
    expect(JSON.parse(version.text)).toEqual({ predictions: [3] });
    expect(missingVersion.status).toBe(404);
    expect(errorOf(missingVersion)).toBe('Servable not found for request: Specific(half_plus_two, 9)');
    expect(missingLabel.status).toBe(400);
    expect(errorOf(missingLabel)).toBe('Unrecognized servable version label: nope');
  });

  it('answers 404 for a model it does not serve, or whose versions are all unloaded', async () => {
    // Prepare
    const standIn = await standIns.start();

    // Act
    const unknown = await post(standIn, '/v1/models/foo:predict', { instances: [1] });
    standIn.unload(HALF_PLUS_TWO, '1');
    standIn.unload(HALF_PLUS_TWO, '2');
    const unloaded = await post(standIn, '/v1/models/half_plus_two:predict', { instances: [1] });

    // Assess
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)).toBe('Servable not found for request: Latest(foo)');
    expect(unloaded.status).toBe(404);
    expect(errorOf(unloaded)).toBe('Servable not found for request: Latest(half_plus_two)');
  });

  it.each([
    ['a body that is not JSON', 'instances: 1', /^JSON Parse error/],
    ['a JSON root that is not an object', [1, 2], /The document root must be an object/],
    ['neither instances nor inputs', { examples: [] }, /Missing 'inputs' or 'instances' key/],
    ['both instances and inputs', { instances: [1], inputs: [1] }, /only one of 'inputs' or 'instances'/],
    ['instances that are not a list', { instances: 1 }, /Expecting 'instances' to be an list\/array/],
    ['an element that is not a float', { instances: [1, 'a'] }, /element: 1 of 'instances' list.*String/],
    [
      'an unknown signature',
      { signature_name: 'other', instances: [1] },
      /"other" not found in signature def/,
    ],
  ])('answers 400 with a JSON error for %s', async (_, body, message) => {
    // Prepare
    const standIn = await standIns.start();

    // Act
    const reply = await post(standIn, '/v1/models/half_plus_two:predict', body);

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.type).toBe('application/json');
    expect(errorOf(reply)).toMatch(message);
  });

  it('computes nothing for other models or verbs (400), and keeps a GET of a predict path malformed', async () => {
    // Prepare
    const standIn = await standIns.start({
      models: { [HALF_PLUS_TWO]: { available: ['1'] }, resnet: { available: ['3'] } },
    });

    // Act
    const other = await post(standIn, '/v1/models/resnet:predict', { instances: [1] });
    const classify = await post(standIn, '/v1/models/half_plus_two:classify', { examples: [] });
    const upper = await post(standIn, '/v1/models/half_plus_two:PREDICT', { instances: [1] });
    const get = await fetch(`${standIn.url}/v1/models/half_plus_two:predict`);

    // Assess
    expect([other.status, classify.status, upper.status, get.status]).toEqual([400, 400, 400, 400]);
    expect(errorOf(other)).toMatch(/signature def/);
    expect(await get.json()).toEqual({ error: 'Malformed request: GET /v1/models/half_plus_two:predict' });
  });

  it('misbehaves on predict as on every /v1 request, and is refused once dead', async () => {
    // Prepare
    const standIn = await standIns.start();

    // Act
    standIn.misbehave('http-500');
    const failing = await post(standIn, '/v1/models/half_plus_two:predict', { instances: [1] });
    standIn.misbehave('none');
    await standIn.die();
    const refused = post(standIn, '/v1/models/half_plus_two:predict', { instances: [1] });
    await expect(refused).rejects.toThrow(TypeError);
    await standIn.revive();
    const revived = await post(standIn, '/v1/models/half_plus_two:predict', { instances: [1] });

    // Assess
    expect(failing.status).toBe(500);
    expect(JSON.parse(revived.text)).toEqual({ predictions: [2.5] });
  });

  it('answers predict from the command line with --model half_plus_two:1', async () => {
    // Prepare
    const host = standIns.nextHost();
    const { child, stdout } = standIns.run(['--host', host, '--model', 'half_plus_two:1']);
    await within(
      20_000,
      () => stdout().includes('listening') || child.exitCode !== null,
      'the listening line',
    );

    // Act
    const response = await fetch(`http://${host}:8501/v1/models/half_plus_two:predict`, {
      method: 'POST',
      body: '{"instances": [1.0, 2.0, 5.0]}',
    });

    // Assess
    expect(stdout()).toContain(`http://${host}:8501, half_plus_two: 1 AVAILABLE`);
    expect(await response.json()).toEqual({ predictions: [2.5, 3.0, 4.5] });
  });
});
