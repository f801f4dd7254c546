import { HornError } from '../../../src/common/errors';
import { ExitCode, UsageError, errorMessageFor, exitCodeFor } from '../../../src/client/exit-codes';
import { ServiceUnreachableError } from '../../../src/hadoop/http/endpoint';
import { ApplicationNotFoundError } from '../../../src/hadoop/rm-rest/client';
import { HadoopConfigurationError } from '../../../src/hadoop/conf';
import { JobValidationError } from '../../../src/job/errors';
import { YarnIdFormatError } from '../../../src/hadoop/yarn/ids';

describe('exitCodeFor', () => {
  test('the documented codes are fixed', () => {
    expect(ExitCode).toEqual({ Succeeded: 0, ApplicationFailed: 1, InvalidInput: 2, Killed: 3, ClusterError: 4, Timeout: 5, Internal: 70 });
  });

  test.each([
    ['input', 2],
    ['cluster', 4],
    ['application', 1],
    ['killed', 3],
    ['timeout', 5],
    ['internal', 70],
  ] as const)('HornError kind %s → %d', (kind, code) => {
    expect(exitCodeFor(new HornError('x', kind))).toBe(code);
  });

  test('errors of the Hadoop clients and configuration', () => {
    expect(exitCodeFor(new HadoopConfigurationError('no conf', undefined, 'HADOOP_CONF_DIR'))).toBe(4);
    expect(exitCodeFor(new ServiceUnreachableError('ResourceManager', ['http://x:1'], 'ECONNREFUSED'))).toBe(4);
    expect(exitCodeFor(new ApplicationNotFoundError('application_1_0001'))).toBe(2);
  });

  test('usage errors and the input errors of modules that do not use HornError → 2', () => {
    expect(exitCodeFor(new UsageError('Unknown argument: x'))).toBe(2);
    expect(exitCodeFor(new YarnIdFormatError('application', 'x'))).toBe(2);
    expect(exitCodeFor(new JobValidationError('job.yaml', []))).toBe(2);
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'model.horn'"), { code: 'ENOENT', syscall: 'open' });
    expect(exitCodeFor(enoent)).toBe(2);
  });

  test('anything else is an internal error (70), reported with its stack', () => {
    const bug = new TypeError('undefined is not a function');
    expect(exitCodeFor(bug)).toBe(70);
    expect(exitCodeFor('a string')).toBe(70);
    expect(errorMessageFor(bug)).toMatch(/^internal error: TypeError: undefined is not a function\n\s+at /);
    expect(errorMessageFor(new HornError('plain', 'cluster'))).toBe('plain');
  });
});
