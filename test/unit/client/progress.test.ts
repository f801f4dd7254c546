import { Writable } from 'node:stream';
import { fitToTerminal, ProgressPrinter } from '../../../src/client/progress';

// The progress display's endings (issue 12, Build 4 and 6).
function sink(isTTY: boolean, columns?: number): { out: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const out = Object.assign(new Writable({ write: (c, _e, done) => ((text += String(c)), done()) }), { isTTY, columns }) as unknown as NodeJS.WriteStream;
  out.write = ((c: string) => ((text += c), true)) as never;
  return { out, text: () => text };
}

describe('ProgressPrinter', () => {
  test('on a non-terminal the last line is printed once, and the display ends at 100 % after evaluating', () => {
    let now = 0;
    const { out, text } = sink(false);
    const p = new ProgressPrinter(out, 5_000, () => now);
    p.update({ state: 'training', progress: 0.5, epoch: 1, epochs: 2 });
    now = 1_000;
    p.update({ state: 'training', progress: 1, epoch: 2, epochs: 2 });
    now = 7_000;
    p.update({ state: 'evaluating' }); // keeps the bar and the epoch
    p.done({ state: 'done', progress: 1 });
    expect(text()).toBe(
      [
        'training  [##########..........]  50%  epoch 1/2',
        'evaluating  [####################] 100%  epoch 2/2',
        'done      [####################] 100%  epoch 2/2',
        '',
      ].join('\n'),
    );
  });

  test('done() does not repeat a line that was just printed', () => {
    const { out, text } = sink(false);
    const p = new ProgressPrinter(out, 5_000, () => 0);
    p.update({ state: 'RUNNING', progress: 0.2 });
    p.done();
    expect(text()).toBe('RUNNING   [####................]  20%\n');
  });

  test('a terminal that reports 0 columns gets an 80-column line', () => {
    const long = 'x'.repeat(200);
    expect(fitToTerminal(long, 0)).toHaveLength(79);
    expect(fitToTerminal(long, undefined)).toHaveLength(79);
    expect(fitToTerminal(long, 40)).toHaveLength(39);
    const { out, text } = sink(true, 0);
    const p = new ProgressPrinter(out);
    p.update({ state: 'training', progress: 0.5, epoch: 3, epochs: 10, loss: 0.1, accuracy: 0.9, samplesPerSecond: 12345, link: 'http://master.test:8088/proxy/application_1_0001/' });
    p.done();
    const lines = text().split('\r\x1b[2K').filter(Boolean);
    expect(lines[0]!.trimEnd().length).toBeLessThanOrEqual(79);
    expect(text().endsWith('\n')).toBe(true);
  });
});
