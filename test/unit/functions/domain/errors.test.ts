import { describe, expect, it } from 'vitest';
import {
  asError,
  ConfigError,
  InvalidEventError,
  RequestError,
} from '../../../../functions/domain/errors.ts';

describe('ConfigError', () => {
  it('names the variable, the value and what is allowed in its message', () => {
    // Act
    const error = new ConfigError('PORT', 'abc', 'expected 1–65535');

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe('PORT="abc" is invalid: expected 1–65535');
  });
});

describe('RequestError', () => {
  it('carries its HTTP status, code and message', () => {
    // Act
    const error = new RequestError(400, 'InvalidModelName', 'The model name must not be empty.');

    // Assess
    expect(error).toMatchObject({
      name: 'RequestError',
      statusCode: 400,
      code: 'InvalidModelName',
      message: 'The model name must not be empty.',
    });
  });
});

describe('InvalidEventError', () => {
  it('appends its issues to the message', () => {
    // Act
    const error = new InvalidEventError('invalid ECS Task State Change', [
      'detail.taskArn: Required',
      'x: y',
    ]);

    // Assess
    expect(error.message).toBe('invalid ECS Task State Change: detail.taskArn: Required; x: y');
    expect(error.issues).toEqual(['detail.taskArn: Required', 'x: y']);
  });

  it('keeps the message alone without issues', () => {
    // Act / Assess
    expect(new InvalidEventError('not an event').message).toBe('not an event');
  });
});

describe('asError', () => {
  it('returns an Error unchanged', () => {
    // Prepare
    const error = new RangeError('x');

    // Act / Assess
    expect(asError(error)).toBe(error);
  });

  it('wraps a thrown non-Error value in an Error', () => {
    // Act
    const error = asError(42);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('42');
  });
});
