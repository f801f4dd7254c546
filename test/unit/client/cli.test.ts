// The command line as a new user meets it (issue 12, Build 2): --version, and every mistyped
// command or option refused with a did-you-mean and exit 2, before any request is made.
import packageJson from '../../../package.json';
import { unknownNameProblem } from '../../../src/client/cli';
import { horn } from './cli-harness';

// A configuration that would fail loudly if a command got as far as reading it.
const noCluster = { HADOOP_CONF_DIR: '/nonexistent/horn-test-conf' };

describe('horn --version', () => {
  test('prints the version and exits 0', async () => {
    const r = await horn(['--version']);
    expect(r).toEqual({ stdout: `${packageJson.version}\n`, stderr: '', exitCode: 0 });
  });
});

describe('mistyped commands and options: exit 2 with a did-you-mean', () => {
  test.each([
    [['submit', '--detatch', 'job.yaml'], 'horn: submit: unknown option --detatch (did you mean --detach?); see horn submit --help\n'],
    [['submt', 'job.yaml'], 'horn: unknown command submt (did you mean submit?); see horn --help\n'],
    [['frobnicate'], 'horn: unknown command frobnicate (commands: submit, status, list, kill, renew, logs, report, validate, train, eval, export, predict); see horn --help\n'],
    [['list', '--alll'], 'horn: list: unknown option --alll (did you mean --all?); see horn list --help\n'],
    [['list', '--no-such-option'], 'horn: list: unknown option --no-such-option; see horn list --help\n'],
    [['eval', '--jsn', 'm', 'd'], 'horn: eval: unknown option --jsn (did you mean --json?); see horn eval --help\n'],
    [['train', '--local', '--outptu', 'x', 'job.yaml'], 'horn: train: unknown option --outptu (did you mean --output?); see horn train --help\n'],
    [['status', '-x', 'application_1_0001'], 'horn: status: unknown option -x; see horn status --help\n'],
    [['--verison'], 'horn: unknown option --verison; see horn --help\n'],
    [['submit'], 'horn: submit: missing <job> (usage: horn submit <job> [options]); see horn submit --help\n'],
    [['eval', 'model'], 'horn: eval: missing <model> <data> (usage: horn eval <model> <data> [options]); see horn eval --help\n'],
    [['status', 'application_1_0001', 'extra'], 'horn: status: Unknown argument: extra; see horn status --help\n'],
    [[], 'horn: name a command; see horn --help\n'],
  ])('horn %j', async (argv, stderr) => {
    const r = await horn(argv as string[], noCluster);
    expect(r).toEqual({ stdout: '', stderr, exitCode: 2 });
  });

  test('what is allowed stays allowed: aliases, camelCase, --no-, values that look like options', () => {
    expect(unknownNameProblem(['list', '-a', '--all-users'])).toBeUndefined();
    expect(unknownNameProblem(['eval', 'm', 'd', '--labelColumn', '-1', '--batch-size=10', '--no-header'])).toBeUndefined();
    expect(unknownNameProblem(['predict', 'm', 'd', '-o', '-'])).toBeUndefined();
    expect(unknownNameProblem(['submit', 'job.yaml', '--', '--anything'])).toBeUndefined();
    expect(unknownNameProblem(['--help'])).toBeUndefined();
    expect(unknownNameProblem(['kill', '--wiat', '5', '--jsno', 'application_1_1'])).toBe('kill: unknown options --wiat (did you mean --wait?), --jsno (did you mean --json?); see horn kill --help');
  });

  test('a missing job file names it, not errno text', async () => {
    const r = await horn(['submit', 'nope.yaml'], noCluster);
    expect(r).toEqual({ stdout: '', stderr: 'horn: no such file: nope.yaml\n', exitCode: 2 });
    const v = await horn(['validate', 'nope.yaml']);
    expect(v).toEqual({ stdout: '', stderr: 'no such file: nope.yaml\n', exitCode: 2 });
  });

  test('submit --timeout must be a positive number', async () => {
    const r = await horn(['submit', 'job.yaml', '--timeout', '0'], noCluster);
    expect(r).toEqual({ stdout: '', stderr: 'horn: --timeout 0: must be a positive number of seconds\n', exitCode: 2 });
  });
});
