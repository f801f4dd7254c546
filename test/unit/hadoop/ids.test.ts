import {
  formatApplicationAttemptId,
  formatApplicationId,
  formatContainerId,
  parseApplicationAttemptId,
  parseApplicationId,
  parseContainerId,
  YarnIdFormatError,
} from '../../../src/hadoop/yarn';

describe('YARN id strings', () => {
  const app = { clusterTimestamp: 1795318647931, id: 5 };

  test('format like Hadoop toString (zero padding)', () => {
    expect(formatApplicationId(app)).toBe('application_1795318647931_0005');
    expect(formatApplicationAttemptId({ applicationId: app, attemptId: 1 })).toBe('appattempt_1795318647931_0005_000001');
    expect(formatContainerId({ appAttemptId: { applicationId: app, attemptId: 1 }, id: 2 })).toBe('container_1795318647931_0005_01_000002');
    expect(formatApplicationId({ clusterTimestamp: 1, id: 123456 })).toBe('application_1_123456');
  });

  test('the RM epoch lives in the upper bits of the container id', () => {
    const id = 17 * 2 ** 40 + 42;
    const s = formatContainerId({ appAttemptId: { applicationId: app, attemptId: 2 }, id });
    expect(s).toBe('container_e17_1795318647931_0005_02_000042');
    expect(parseContainerId(s).id).toBe(id);
  });

  test('parse round-trips and rejects garbage', () => {
    expect(parseApplicationId('application_1795318647931_0005')).toEqual(app);
    expect(parseApplicationAttemptId('appattempt_1795318647931_0005_000003')).toEqual({ applicationId: app, attemptId: 3 });
    const c = parseContainerId('container_1795318647931_0005_01_000002');
    expect(c).toEqual({ appId: app, appAttemptId: { applicationId: app, attemptId: 1 }, id: 2 });
    expect(() => parseContainerId('container_x')).toThrow(YarnIdFormatError);
    expect(() => parseApplicationId('app_1_2')).toThrow(/not a valid application id/);
  });
});
