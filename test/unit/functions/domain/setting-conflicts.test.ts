import { describe, expect, it } from 'vitest';
import { loadConfig, settingConflicts } from '../../../../functions/domain/settings.ts';

describe('settingConflicts', () => {
  it('finds none in the defaults', () => {
    // Act + Assess
    expect(settingConflicts(loadConfig({}))).toEqual([]);
  });

  it.each([
    [{ UNHEALTHY_AFTER_SECONDS: '1' }, ['UNHEALTHY_AFTER_SECONDS', 'PROBE_INTERVAL_SECONDS']],
    [{ UNHEALTHY_AFTER_SECONDS: '5' }, ['UNHEALTHY_AFTER_SECONDS', 'PROBE_INTERVAL_SECONDS']],
    [
      { REMOVE_AFTER_SECONDS: '3', UNHEALTHY_AFTER_SECONDS: '3600' },
      ['REMOVE_AFTER_SECONDS', 'PROBE_INTERVAL_SECONDS'],
    ],
    [{ PROBE_INTERVAL_SECONDS: '60' }, ['UNHEALTHY_AFTER_SECONDS', 'PROBE_INTERVAL_SECONDS']],
  ])('names the settings that make healthy endpoints flap: %j', (env, settings) => {
    // Act
    const conflicts = settingConflicts(loadConfig(env));

    // Assess
    expect(conflicts.map((conflict) => conflict.settings)).toContainEqual(settings);
    expect(conflicts.find((c) => c.settings[0] === settings[0])?.message).toMatch(
      /healthy endpoints will flap/,
    );
  });

  it('finds none when each window is longer than the interval, however large the rest', () => {
    // Act + Assess
    expect(
      settingConflicts(
        loadConfig({
          PROBE_INTERVAL_SECONDS: '1',
          UNHEALTHY_AFTER_SECONDS: '2',
          REMOVE_AFTER_SECONDS: '86400',
          FAILURE_THRESHOLD: '1000',
        }),
      ),
    ).toEqual([]);
  });
});
