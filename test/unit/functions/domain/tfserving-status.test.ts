import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  judgeModelStatus,
  labelMetadataJudge,
  labelVersionFromMetadata,
  MAX_STATUS_BYTES,
  modelStatusJudge,
  probeFailureKind,
  type StatusVerdict,
  timeoutReason,
} from '../../../../functions/domain/tfserving-status.ts';

const JSON_TYPE = 'application/json';

type State = 'UNKNOWN' | 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

function entry(version: string, state: State, errorCode = 'OK', errorMessage = '') {
  return { version, state, status: { error_code: errorCode, error_message: errorMessage } };
}

/** A status answer printed as TF Serving prints it (proto3 JSON with whitespace). */
function statusBody(...entries: ReturnType<typeof entry>[]): string {
  return JSON.stringify({ model_version_status: entries }, null, 1);
}

/** An error answer as TF Serving writes it (rapidjson PrettyWriter, 4 spaces). */
function errorBody(message: string): string {
  return JSON.stringify({ error: message }, null, 4);
}

function metadataBody(version: unknown): string {
  return JSON.stringify({
    model_spec: { name: 'resnet', signature_name: '', version },
    metadata: { signature_def: { signature_def: {} } },
  });
}

describe('judgeModelStatus', () => {
  it('returns ok with the version for one AVAILABLE version', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry('7', 'AVAILABLE')));

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['7'] });
  });

  it('returns ok with the new version after a clean upgrade (old version END with OK)', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry('8', 'AVAILABLE'), entry('7', 'END')));

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['8'] });
  });

  it('returns ok with the old version when the new version failed to load (END with an error)', () => {
    // Prepare
    const body = statusBody(
      entry(
        '8',
        'END',
        'NOT_FOUND',
        'Could not find SavedModel .pb or .pbtxt at supplied export directory path: /models/resnet/8',
      ),
      entry('7', 'AVAILABLE'),
    );

    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, body);

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['7'] });
  });

  it('returns ok with the old version while the new one is still LOADING', () => {
    // Act
    const verdict = judgeModelStatus(
      200,
      JSON_TYPE,
      statusBody(entry('8', 'LOADING'), entry('7', 'AVAILABLE')),
    );

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['7'] });
  });

  it('returns ok with both versions while both are AVAILABLE during an upgrade', () => {
    // Act
    const verdict = judgeModelStatus(
      200,
      JSON_TYPE,
      statusBody(entry('8', 'AVAILABLE'), entry('7', 'AVAILABLE')),
    );

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['8', '7'] });
  });

  it('returns ok for an AVAILABLE version next to an UNLOADING one', () => {
    // Act
    const verdict = judgeModelStatus(
      200,
      JSON_TYPE,
      statusBody(entry('8', 'AVAILABLE'), entry('7', 'UNLOADING')),
    );

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['8'] });
  });

  it.each(['UNKNOWN', 'START', 'LOADING', 'UNLOADING', 'END'] as const)(
    'returns not ok when the only version is %s',
    (state) => {
      // Act
      const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry('1', state)));

      // Assess
      expect(verdict.ok).toBe(false);
    },
  );

  it('returns not ok for a model removed from the config: 200 with every version END', () => {
    // Prepare
    const body = statusBody(entry('3', 'END'), entry('2', 'END'), entry('1', 'END'));

    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, body);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no AVAILABLE version (3 END, 2 END, 1 END)' });
  });

  it('names the error code of a failed version in its reason', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry('8', 'END', 'NOT_FOUND', 'gone')));

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no AVAILABLE version (8 END NOT_FOUND)' });
  });

  it('returns not ok for an empty version list', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, '{"model_version_status": []}');

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no AVAILABLE version (no versions)' });
  });

  it('returns not ok with the error text for a 404 unknown model', () => {
    // Act
    const verdict = judgeModelStatus(
      404,
      JSON_TYPE,
      errorBody('Could not find any versions of model resnet'),
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'HTTP 404: Could not find any versions of model resnet' });
  });

  it('returns not ok for a 404 even when its body looks like a status answer', () => {
    // Act
    const verdict = judgeModelStatus(404, JSON_TYPE, statusBody(entry('1', 'AVAILABLE')));

    // Assess
    expect(verdict.ok).toBe(false);
  });

  it("returns not ok for libevent's HTML 404 page, quoting the start of the body", () => {
    // Prepare
    const html =
      '<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n</BODY></HTML>';

    // Act
    const verdict = judgeModelStatus(404, 'text/html', html);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: `HTTP 404: ${html.slice(0, 80)}` });
  });

  it.each([500, 503, 504, 400])('returns not ok for HTTP %i', (statusCode) => {
    // Act
    const verdict = judgeModelStatus(statusCode, JSON_TYPE, errorBody('failure'));

    // Assess
    expect(verdict).toEqual({ ok: false, reason: `HTTP ${statusCode}: failure` });
  });

  it('returns not ok for a 200 with an HTML content type', () => {
    // Act
    const verdict = judgeModelStatus(
      200,
      'text/html; charset=utf-8',
      '<html><body>proxy login</body></html>',
    );

    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: 'HTTP 200 with content type text/html; charset=utf-8, not JSON',
    });
  });

  it('returns not ok for a 200 without a content type', () => {
    // Act
    const verdict = judgeModelStatus(200, undefined, statusBody(entry('1', 'AVAILABLE')));

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'HTTP 200 with content type (none), not JSON' });
  });

  it('accepts a JSON content type with parameters, in any case', () => {
    // Act
    const verdict = judgeModelStatus(
      200,
      'Application/JSON; charset=utf-8',
      statusBody(entry('1', 'AVAILABLE')),
    );

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['1'] });
  });

  it('returns not ok for truncated JSON', () => {
    // Prepare
    const body = statusBody(entry('7', 'AVAILABLE'));

    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, body.slice(0, body.length - 10));

    // Assess
    expect(verdict).toEqual({
      ok: false,
      reason: 'HTTP 200 with a body that is not JSON (truncated or garbage)',
    });
  });

  it('returns not ok for an HTML body served as JSON', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, '<html></html>');

    // Assess
    expect(verdict.ok).toBe(false);
  });

  it.each([
    ['an empty body', ''],
    ['null', 'null'],
    ['an array', '[]'],
    ['an error object', '{"error": "Malformed request: GET /v1/models/resnet/"}'],
    ['a camelCase field name', '{"modelVersionStatus": [{"version": "1", "state": "AVAILABLE"}]}'],
    ['a status that is not a list', '{"model_version_status": {"version": "1", "state": "AVAILABLE"}}'],
    ['a numeric version', '{"model_version_status": [{"version": 1, "state": "AVAILABLE"}]}'],
    ['a missing version', '{"model_version_status": [{"state": "AVAILABLE"}]}'],
    ['a numeric state', '{"model_version_status": [{"version": "1", "state": 30}]}'],
    ['an unknown state name', '{"model_version_status": [{"version": "1", "state": "READY"}]}'],
    [
      'a status without an error code',
      '{"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": {}}]}',
    ],
  ])('returns not ok for a 200 JSON answer with %s', (_, body) => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, body);

    // Assess
    expect(verdict.ok).toBe(false);
  });

  it.each([
    ['a non-digit version', 'v1'],
    ['a negative version', '-1'],
    ['a fractional version', '1.5'],
    ['an empty version', ''],
    ['a version that overflows int64', '9223372036854775808'],
  ])('returns not ok for %s, even when AVAILABLE', (_, version) => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry(version, 'AVAILABLE')));

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/^not a model status answer/) });
  });

  it('accepts the largest int64 version', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry('9223372036854775807', 'AVAILABLE')));

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['9223372036854775807'] });
  });

  it('accepts an entry without a status object', () => {
    // Act
    const verdict = judgeModelStatus(
      200,
      JSON_TYPE,
      '{"model_version_status": [{"version": "3", "state": "AVAILABLE"}]}',
    );

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['3'] });
  });

  it('tolerates unknown fields in the answer', () => {
    // Prepare
    const body = JSON.stringify({
      model_version_status: [{ ...entry('2', 'AVAILABLE'), extra: true }],
      something_new: 1,
    });

    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, body);

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['2'] });
  });

  it('returns the AVAILABLE versions numerically newest first, whatever the order of the answer', () => {
    // Prepare
    const body = statusBody(entry('2', 'AVAILABLE'), entry('10', 'AVAILABLE'), entry('9', 'AVAILABLE'));

    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, body);

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['10', '9', '2'] });
  });

  it('returns versions in canonical form, without duplicates', () => {
    // Prepare
    const body = statusBody(entry('007', 'AVAILABLE'), entry('7', 'AVAILABLE'), entry('0010', 'AVAILABLE'));

    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, body);

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['10', '7'] });
  });

  it('ignores the HTTP code of a non-200 answer with the right shape (never judges by the code alone)', () => {
    // Act
    const verdict = judgeModelStatus(201, JSON_TYPE, statusBody(entry('1', 'AVAILABLE')));

    // Assess
    expect(verdict.ok).toBe(false);
  });
});

/** Feeds `body` to a fresh judge in the given chunk sizes (cycled), as a socket would deliver it. */
function judgeInChunks(body: Buffer, sizes: readonly number[]): StatusVerdict {
  const judge = modelStatusJudge(200, JSON_TYPE);
  let offset = 0;
  for (let i = 0; offset < body.length; i += 1) {
    const size = sizes[i % sizes.length] as number;
    judge.write(body.subarray(offset, offset + size));
    offset += size;
  }
  return judge.end();
}

/** A status answer of a server that has loaded `count` versions over its life, the newest AVAILABLE. */
function longHistory(count: number): Buffer {
  const top = 1_700_000_000 + count;
  const entries = [entry(String(top), 'AVAILABLE')];
  for (let i = 1; i < count; i += 1) entries.push(entry(String(top - i), 'END'));
  return Buffer.from(statusBody(...entries));
}

describe('modelStatusJudge (streaming)', () => {
  it('judges a server with 20,000 versions in its history by its AVAILABLE one (a 2 MB answer)', () => {
    // Prepare
    const body = longHistory(20_000);

    // Act
    const verdict = judgeInChunks(body, [16_384]);

    // Assess
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(verdict).toEqual({ ok: true, versions: ['1700020000'] });
  });

  it('gives the same verdict whatever the chunking of the body', () => {
    // Prepare
    const bodies = [
      statusBody(entry('8', 'END', 'NOT_FOUND', 'no SavedModel'), entry('7', 'AVAILABLE')),
      statusBody(entry('3', 'LOADING')),
      statusBody(entry('-1', 'AVAILABLE'), entry('2', 'AVAILABLE')),
      '{"model_version_status": "nope"}',
      '{"model_version_status": [{"version": "1", "state": "AVAIL',
      '<html></html>',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...bodies),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        (body, sizes) => {
          // Act / Assess
          expect(judgeInChunks(Buffer.from(body), sizes)).toEqual(judgeModelStatus(200, JSON_TYPE, body));
        },
      ),
    );
  });

  it('gives a small body parsed whole the verdict it gets streamed (the same body padded past 64 KB)', () => {
    // Prepare: whitespace between tokens changes nothing in JSON, and pushes the body onto the
    // streaming path. (Bodies without version entries are judged from their first 64 KB, so they
    // are left out: padded, that start is only whitespace.)
    const pad = ' '.repeat(70 * 1024);
    const bodies = [
      statusBody(entry('8', 'END', 'NOT_FOUND', 'no SavedModel'), entry('7', 'AVAILABLE')),
      statusBody(entry('-1', 'AVAILABLE'), entry('2', 'AVAILABLE')),
      statusBody(entry('3', 'LOADING')),
      '{"model_version_status": [{"version": "x"}, {"version": "4", "state": "AVAILABLE"}], "more": 1}',
      '{"model_version_status": [{"version": "1", "state": "AVAILABLE"}]} garbage',
      '{"model_version_status": [{"version": "1", "state": "AVAIL',
    ];
    for (const body of bodies) {
      // Act
      const whole = judgeModelStatus(200, JSON_TYPE, body);
      const streamed = judgeModelStatus(200, JSON_TYPE, body.replace(/^([[{])/, `$1${pad}`));

      // Assess
      expect(whole, body).toEqual(streamed);
    }
  });

  it('judges by the well-formed entries when one entry has a -1 version (a legal directory name)', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry('-1', 'END'), entry('7', 'AVAILABLE')));

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['7'] });
  });

  it('does not serve a -1 version even when it is AVAILABLE (discovery versions are int64 digits)', () => {
    // Act
    const verdict = judgeModelStatus(
      200,
      JSON_TYPE,
      statusBody(entry('-1', 'AVAILABLE'), entry('4', 'AVAILABLE'), entry('3', 'END')),
    );

    // Assess
    expect(verdict).toEqual({ ok: true, versions: ['4'] });
  });

  it('returns not ok when the well-formed entries have no AVAILABLE version, next to a malformed one', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, statusBody(entry('-1', 'AVAILABLE'), entry('4', 'END')));

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: expect.stringMatching(/^no AVAILABLE version/) });
  });

  it('stops reading past MAX_STATUS_BYTES', () => {
    // Prepare
    const judge = modelStatusJudge(200, JSON_TYPE);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);

    // Act / Assess
    expect(() => {
      for (let sent = 0; sent <= MAX_STATUS_BYTES; sent += chunk.length) judge.write(chunk);
    }).toThrow(`body larger than ${MAX_STATUS_BYTES} bytes`);
  });

  it('returns not ok for JSON followed by garbage', () => {
    // Act
    const verdict = judgeModelStatus(200, JSON_TYPE, `${statusBody(entry('1', 'AVAILABLE'))} trailing`);

    // Assess
    expect(verdict).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
  });
});

describe('labelMetadataJudge', () => {
  it('resolves a label from a body delivered in pieces', () => {
    // Prepare
    const judge = labelMetadataJudge(200);
    const body = Buffer.from(metadataBody('12'));

    // Act
    judge.write(body.subarray(0, 10));
    judge.write(body.subarray(10));

    // Assess
    expect(judge.end()).toBe('12');
  });

  it('does not resolve a label from an error answer', () => {
    // Prepare
    const judge = labelMetadataJudge(400);

    // Act
    judge.write(Buffer.from(errorBody('Unrecognized servable version label: nope')));

    // Assess
    expect(judge.end()).toBeUndefined();
  });
});

describe('labelVersionFromMetadata', () => {
  it('returns the version the label resolves to', () => {
    // Act / Assess
    expect(labelVersionFromMetadata(200, metadataBody('7'))).toBe('7');
  });

  it('returns the version in canonical form', () => {
    // Act / Assess
    expect(labelVersionFromMetadata(200, metadataBody('0042'))).toBe('42');
  });

  it('returns undefined for an unknown label (400)', () => {
    // Act / Assess
    expect(
      labelVersionFromMetadata(400, errorBody('Unrecognized servable version label: nope')),
    ).toBeUndefined();
  });

  it('returns undefined for an unknown model (404)', () => {
    // Act / Assess
    expect(
      labelVersionFromMetadata(404, errorBody('Servable not found for request: Latest(resnet)')),
    ).toBeUndefined();
  });

  it('returns undefined for a body that is not JSON', () => {
    // Act / Assess
    expect(labelVersionFromMetadata(200, '{"model_spec": {"vers')).toBeUndefined();
  });

  it.each([
    ['a numeric version', 7],
    ['a missing version', undefined],
    ['a non-digit version', 'latest'],
    ['an overflowing version', '9223372036854775808'],
  ])('returns undefined for %s', (_, version) => {
    // Act / Assess
    expect(labelVersionFromMetadata(200, metadataBody(version))).toBeUndefined();
  });

  it('returns undefined without model_spec', () => {
    // Act / Assess
    expect(labelVersionFromMetadata(200, '{"metadata": {}}')).toBeUndefined();
  });
});

describe('probeFailureKind', () => {
  const reasonOf = (verdict: StatusVerdict) => (verdict.ok ? 'served' : verdict.reason);

  it.each([
    ['a model whose versions are all END', statusBody(entry('3', 'END')), 200, 'no-available-version'],
    ['an empty status answer', statusBody(), 200, 'no-available-version'],
    ['TF Serving not knowing the model', errorBody('Servable not found for request'), 404, 'http-error'],
    ['a proxy error page', '<html>bad gateway</html>', 502, 'http-error'],
    ['a truncated answer', '{"model_version_status": [', 200, 'bad-answer'],
    ['an answer of another shape', '{"models": []}', 200, 'bad-answer'],
  ] as const)('is %s → %s for what the judges say', (_what, body, statusCode, kind) => {
    // Act
    const reason = reasonOf(judgeModelStatus(statusCode, JSON_TYPE, body));

    // Assess
    expect(probeFailureKind(reason)).toBe(kind);
  });

  it('tells a content type that is not JSON and a body past the limit as bad answers', () => {
    // Prepare
    const html = reasonOf(judgeModelStatus(200, 'text/html', '<html></html>'));
    const huge = reasonOf(judgeModelStatus(200, JSON_TYPE, new Uint8Array(MAX_STATUS_BYTES + 1)));

    // Assess
    expect([probeFailureKind(html), probeFailureKind(huge)]).toEqual(['bad-answer', 'bad-answer']);
  });

  it("tells the client's deadline from the socket errors", () => {
    // Assess
    expect(probeFailureKind(timeoutReason(2000))).toBe('timeout');
    expect(probeFailureKind('connect ECONNREFUSED 127.0.0.9:8501')).toBe('connection');
    expect(probeFailureKind('connection closed mid-body')).toBe('connection');
    expect(probeFailureKind('probing 169.254.169.254 is not allowed')).toBe('connection');
  });
});
