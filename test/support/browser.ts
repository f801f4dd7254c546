// Headless Chromium (Debian's package, installed by scripts/setup-test-tools) driven through
// playwright-core, for the tests of the training page. Every page opened here records what a
// person would call broken: console errors, uncaught exceptions, failed requests, HTTP errors.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.HORN_CHROMIUM ?? '/usr/bin/chromium';
const REPO = join(__dirname, '..', '..');

/** Where tests leave screenshots: $HORN_TEST_OUTPUT or build/test-output (git-ignored). */
export function testOutputDir(name: string): string {
  const dir = join(process.env.HORN_TEST_OUTPUT ?? join(REPO, 'build', 'test-output'), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup-test-tools (installs Debian's chromium) or set HORN_CHROMIUM`);
  // --no-sandbox: the tests run as root, where Chromium refuses its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 60_000 });
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors, page errors, failed requests and HTTP ≥ 400 answers, as lines. */
  readonly problems: string[];
  /** Every URL the page requested. */
  readonly requests: string[];
}

export async function openWatched(browser: Browser, url: string, viewport = { width: 1280, height: 1600 }): Promise<WatchedPage> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => void requests.push(r.url()));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  return { page, problems, requests };
}

/** The number of x values the chart with this id draws (page.ts keeps it in data-points). */
export async function chartPoints(page: Page, id: string): Promise<number> {
  return Number(await page.getAttribute(`#${id}`, 'data-points', { timeout: 30_000 }));
}

/** Waits until the chart draws at least `n` points; the error says how many it had. */
export async function waitForChartPoints(page: Page, id: string, n: number, timeoutMs: number): Promise<number> {
  try {
    // A string: the tests are type-checked without the DOM library.
    await page.waitForFunction(`Number(document.getElementById(${JSON.stringify(id)})?.dataset.points ?? 0) >= ${n}`, undefined, { timeout: timeoutMs, polling: 250 });
  } catch {
    throw new Error(`chart #${id} drew ${await chartPoints(page, id).catch(() => NaN)} points after ${timeoutMs} ms; expected at least ${n}`);
  }
  return chartPoints(page, id);
}
