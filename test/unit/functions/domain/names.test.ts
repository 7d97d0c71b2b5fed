import { describe, expect, it } from 'vitest';
import { RequestError } from '../../../../functions/domain/errors.ts';
import {
  canonicalVersion,
  isValidName,
  nameProblem,
  newestFirst,
  requireName,
  requireVersion,
} from '../../../../functions/domain/names.ts';

describe('nameProblem', () => {
  it.each(['resnet', 'half_plus_two', 'ranker-v2', 'model.v1', 'with space', 'модель', '模型', '😀', 'a'])(
    'accepts %j',
    (name) => {
      // Act / Assess
      expect(nameProblem(name)).toBeUndefined();
    },
  );

  it('accepts 256 code points', () => {
    // Act / Assess
    expect(nameProblem('a'.repeat(256))).toBeUndefined();
  });

  it('counts code points, not UTF-16 units: 256 astral characters are accepted', () => {
    // Prepare
    const name = '😀'.repeat(256);

    // Act / Assess
    expect(name.length).toBe(512);
    expect(nameProblem(name)).toBeUndefined();
  });

  it('returns a problem for an empty name', () => {
    // Act / Assess
    expect(nameProblem('')).toBe('must not be empty');
  });

  it('returns a problem for 257 code points', () => {
    // Act / Assess
    expect(nameProblem('a'.repeat(257))).toBe('must be at most 256 characters (got 257)');
  });

  it('returns a problem for 257 astral code points', () => {
    // Act / Assess
    expect(nameProblem('😀'.repeat(257))).toMatch(/at most 256/);
  });

  it.each([
    ['a lone high surrogate', 'abc\uD800'],
    ['a lone low surrogate', '\uDC00abc'],
    ['reversed surrogates', '\uDE00\uD83D'],
    ['U+FFFD (the trace of invalid UTF-8)', 'res\uFFFDnet'],
  ])('returns "must be valid UTF-8" for %s', (_, name) => {
    // Act / Assess
    expect(nameProblem(name)).toBe('must be valid UTF-8');
  });

  it.each([
    ['a slash', 'a/b'],
    ['a colon', 'resnet:predict'],
    ['NUL', 'a\u0000b'],
    ['a tab', 'a\tb'],
    ['a newline', 'a\n'],
    ['DEL', 'a\u007Fb'],
    ['a C1 control (NEL)', 'a\u0085b'],
    ['a C1 control (U+009F)', '\u009F'],
  ])('returns a problem for %s', (_, name) => {
    // Act / Assess
    expect(nameProblem(name)).toBe('must not contain control characters, "/" or ":"');
  });
});

describe('isValidName', () => {
  it('returns true for a valid name', () => {
    // Act / Assess
    expect(isValidName('resnet')).toBe(true);
  });

  it('returns false for an invalid name', () => {
    // Act / Assess
    expect(isValidName('a:b')).toBe(false);
  });
});

describe('canonicalVersion', () => {
  it.each([
    ['7', '7'],
    ['007', '7'],
    ['0', '0'],
    ['000', '0'],
    ['1234567890', '1234567890'],
    ['9223372036854775807', '9223372036854775807'],
  ])('returns the canonical form of %j: %j', (input, expected) => {
    // Act / Assess
    expect(canonicalVersion(input)).toBe(expected);
  });

  it('returns the canonical form of a long run of leading zeros that still fits int64', () => {
    // Prepare: 30 characters, numerically 7
    const version = `${'0'.repeat(29)}7`;

    // Act / Assess
    expect(canonicalVersion(version)).toBe('7');
  });

  it.each([
    ['one past int64', '9223372036854775808'],
    ['twenty digits', '12345678901234567890'],
    ['empty', ''],
    ['a sign', '+7'],
    ['a minus sign', '-1'],
    ['a decimal point', '1.0'],
    ['an exponent', '1e3'],
    ['letters', 'v1'],
    ['spaces', ' 7'],
    ['a trailing newline', '7\n'],
    ['Arabic-Indic digits', '٧'],
    ['full-width digits', '７'],
  ])('returns undefined for %s', (_, input) => {
    // Act / Assess
    expect(canonicalVersion(input)).toBeUndefined();
  });
});

describe('newestFirst', () => {
  it('sorts numerically, newest first (not as strings)', () => {
    // Act
    const sorted = newestFirst(['2', '10', '1', '9']);

    // Assess
    expect(sorted).toEqual(['10', '9', '2', '1']);
  });

  it('sorts versions beyond the safe integer range exactly', () => {
    // Act
    const sorted = newestFirst(['9007199254740993', '9223372036854775807', '9007199254740992']);

    // Assess
    expect(sorted).toEqual(['9223372036854775807', '9007199254740993', '9007199254740992']);
  });

  it('accepts any iterable, such as a Set', () => {
    // Act / Assess
    expect(newestFirst(new Set(['1', '3']))).toEqual(['3', '1']);
  });
});

describe('requireName', () => {
  it('returns a valid model name unchanged', () => {
    // Act / Assess
    expect(requireName('model', 'resnet')).toBe('resnet');
  });

  it('throws a 400 InvalidModelName RequestError for an invalid model name', () => {
    // Act
    const act = () => requireName('model', 'a/b');

    // Assess
    expect(act).toThrow(RequestError);
    expect(act).toThrow(expect.objectContaining({ statusCode: 400, code: 'InvalidModelName' }));
    expect(act).toThrow('"/"');
  });

  it('throws a 400 InvalidLabelName RequestError for an invalid label', () => {
    // Act
    const act = () => requireName('label', '');

    // Assess
    expect(act).toThrow(RequestError);
    expect(act).toThrow(
      expect.objectContaining({
        statusCode: 400,
        code: 'InvalidLabelName',
        message: 'The label name must not be empty.',
      }),
    );
  });

  it('throws a 400 RequestError for a missing name', () => {
    // Act
    const act = () => requireName('model', undefined);

    // Assess
    expect(act).toThrow(RequestError);
    expect(act).toThrow(expect.objectContaining({ statusCode: 400, message: 'The model name is missing.' }));
  });
});

describe('requireVersion', () => {
  it('returns the canonical version', () => {
    // Act / Assess
    expect(requireVersion('007')).toBe('7');
  });

  it.each(['abc', '-1', '', '9223372036854775808'])(
    'throws a 400 InvalidVersion RequestError for %j',
    (value) => {
      // Act
      const act = () => requireVersion(value);

      // Assess
      expect(act).toThrow(RequestError);
      expect(act).toThrow(expect.objectContaining({ statusCode: 400, code: 'InvalidVersion' }));
    },
  );

  it('throws a 400 RequestError for a missing version', () => {
    // Act
    const act = () => requireVersion(undefined);

    // Assess
    expect(act).toThrow(RequestError);
    expect(act).toThrow(expect.objectContaining({ statusCode: 400, code: 'InvalidVersion' }));
  });
});
