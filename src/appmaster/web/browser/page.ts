// The training page, in the browser. Live (served by the ApplicationMaster, through the RM proxy)
// it polls status.json, a relative URL, and updates in place; frozen (report.html) it renders the
// document embedded in the page once. Charts are uPlot; everything else is plain DOM.
import uPlot from 'uplot';
import type { ContainerView, GroupView, StatusDocument } from '../../../protocol/status';
import { bytes, clockTime, duration, fixed, integer, percent, rate } from './format';

const POLL_MS = 2000;
const FINAL_PHASES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'killed']);
const EMBEDDED_ID = 'horn-status';

type Child = Node | string | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) if (c !== undefined && c !== false) node.append(c);
  return node;
}

interface SeriesDef {
  readonly label: string;
  readonly color: string;
  readonly format: (v: number) => string;
}

/** One uPlot chart whose data is replaced in place on every update. */
class Chart {
  readonly figure: HTMLElement;
  private readonly plot: uPlot;
  private readonly empty: HTMLElement;

  constructor(parent: HTMLElement, id: string, title: string, xLabel: string, series: readonly SeriesDef[]) {
    this.empty = el('p', { class: 'empty' }, 'no points yet');
    this.figure = el('figure', { id, 'data-points': '0' }, el('figcaption', {}, title), this.empty);
    parent.append(this.figure);
    const opts: uPlot.Options = {
      width: 480,
      height: 200,
      scales: { x: { time: false } },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      axes: [{ label: xLabel, size: 40 }, { size: 56 }],
      series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, points: { show: false }, spanGaps: true, value: (_u: uPlot, v: number | null) => (v === null ? '–' : s.format(v)) }))],
    };
    this.plot = new uPlot(opts, [[], ...series.map(() => [])], this.figure);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.figure.clientWidth) - 18);
  }

  /** Follows the figure's width (the grid decides it), without feeding back into it. */
  resize(): void {
    const width = this.width();
    if (width !== this.plot.width) this.plot.setSize({ width, height: 200 });
  }

  update(xs: number[], ...ys: (number | null)[][]): void {
    this.figure.dataset.points = String(xs.length);
    this.empty.hidden = xs.length > 0;
    this.plot.setData([xs, ...ys]);
  }
}

const opt = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/** The page: built once, updated from each document. */
class TrainingPage {
  private readonly summary = el('dl', { class: 'summary', id: 'summary' });
  private readonly banner = el('p', { class: 'banner', id: 'waiting', hidden: '' });
  private readonly connection = el('p', { class: 'banner error', id: 'connection', hidden: '' });
  private readonly diagnostics = el('pre', { class: 'diagnostics', id: 'diagnostics', hidden: '' });
  private readonly progress = el('div', { class: 'progress', role: 'progressbar' }, el('span'));
  private readonly phase = el('span', { class: 'phase', id: 'phase' });
  private readonly groups = el('tbody');
  private readonly workers = el('tbody');
  private readonly servers = el('tbody');
  private readonly groupsSection: HTMLElement;
  private readonly serversSection: HTMLElement;
  private readonly footer = el('footer');
  private readonly charts: { loss: Chart; accuracy: Chart; validation: Chart; learningRate: Chart; throughput: Chart };

  constructor(
    root: HTMLElement,
    private readonly frozen: boolean,
  ) {
    const grid = el('section', { class: 'charts' });
    root.replaceChildren(
      el('header', {}, el('h1', { id: 'title' }), this.phase, this.progress),
      this.banner,
      this.connection,
      this.summary,
      grid,
      (this.groupsSection = section('Groups', 'groups', ['group', 'workers', 'clock', 'staleness (max / mean)', 'reads', 'samples/s'], this.groups)),
      section('Workers', 'workers', ['worker', 'group', 'host', 'locality', 'state', 'clock', 'epoch', 'loss', 'samples/s', 'compute / communication / waiting', 'read local / remote', 'restarts', 'diagnostics'], this.workers),
      (this.serversSection = section('Parameter servers', 'servers', ['server', 'host', 'state', 'shard', 'clock', 'updates', 'bytes in / out', 'restarts', 'diagnostics'], this.servers)),
      this.diagnostics,
      this.footer,
    );
    const f3 = (v: number) => v.toFixed(4);
    const pc = (v: number) => percent(v);
    this.charts = {
      loss: new Chart(grid, 'chart-loss', 'Training loss', 'step', [{ label: 'loss', color: '#c0392b', format: f3 }]),
      accuracy: new Chart(grid, 'chart-accuracy', 'Training accuracy', 'step', [{ label: 'accuracy', color: '#2471a3', format: pc }]),
      validation: new Chart(grid, 'chart-validation', 'Accuracy per epoch', 'epoch', [
        { label: 'validation', color: '#1e8449', format: pc },
        { label: 'training', color: '#85c1e9', format: pc },
      ]),
      learningRate: new Chart(grid, 'chart-learning-rate', 'Learning rate', 'step', [{ label: 'learning rate', color: '#7d3c98', format: rate }]),
      throughput: new Chart(grid, 'chart-throughput', 'Samples per second', 'seconds', [{ label: 'samples/s', color: '#b9770e', format: integer }]),
    };
    // Each chart was sized when created, before the others shared its row: size them now, and
    // again whenever the grid changes.
    const charts = Object.values(this.charts);
    charts.forEach((c) => c.resize());
    const observer = new ResizeObserver(() => charts.forEach((c) => c.resize()));
    charts.forEach((c) => observer.observe(c.figure));
  }

  render(doc: StatusDocument): void {
    document.title = `horn: ${doc.name} (${doc.phase})`;
    document.getElementById('title')!.textContent = `horn: ${doc.name}`;
    this.phase.textContent = doc.phase;
    this.phase.className = `phase ${doc.phase}`;
    const bar = this.progress.firstElementChild as HTMLElement;
    bar.style.width = `${Math.round(doc.progress * 1000) / 10}%`;
    this.progress.setAttribute('aria-valuenow', String(Math.round(doc.progress * 100)));
    this.progress.title = percent(doc.progress, 0);

    const elapsed = (FINAL_PHASES.has(doc.phase) ? doc.updatedAt : Date.now()) - doc.startedAt;
    const facts: [string, string][] = [
      ['application', doc.applicationId],
      ['epoch', `${doc.epoch ?? '–'} / ${doc.epochs}`],
      ['step', `${integer(doc.clock)}${doc.clocks ? ` / ${integer(doc.clocks)}` : ''}`],
      ['loss', fixed(doc.loss, 4)],
      ['training accuracy', percent(doc.accuracy)],
      ['samples/s', integer(doc.samplesPerSecond)],
      ['learning rate', rate(doc.learningRate)],
      ['consistency', `${doc.consistency.mode}${doc.consistency.staleness !== undefined ? ` (staleness ${doc.consistency.staleness})` : ''}${doc.wire ? `, ${doc.wire}` : ''}`],
      ['elapsed', duration(elapsed)],
    ];
    const lastEpoch = doc.history?.epochs.at(-1);
    if (lastEpoch?.validationAccuracy !== undefined) facts.push(['validation accuracy', percent(lastEpoch.validationAccuracy)]);
    if (doc.testAccuracy !== undefined) facts.push(['test accuracy', percent(doc.testAccuracy)]);
    if (doc.model) facts.push(['model', doc.model]);
    this.summary.replaceChildren(...facts.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', { 'data-field': k }, v))));

    this.banner.hidden = !doc.waitingFor;
    this.banner.textContent = doc.waitingFor ? `waiting for ${doc.waitingFor}` : '';
    this.diagnostics.hidden = !doc.diagnostics;
    this.diagnostics.textContent = doc.diagnostics ?? '';

    this.renderCharts(doc);
    this.groupsSection.hidden = doc.groups.length <= 1 && !doc.groups.some((g) => g.staleness);
    this.groups.replaceChildren(...doc.groups.map(groupRow));
    const workers = doc.containers.filter((c) => c.role === 'worker');
    const servers = doc.containers.filter((c) => c.role === 'server');
    this.workers.replaceChildren(...workers.map(workerRow));
    this.serversSection.hidden = servers.length === 0;
    this.servers.replaceChildren(...servers.map(serverRow));
    this.footer.replaceChildren(
      this.frozen ? `Report frozen at ${clockTime(doc.updatedAt)}. ` : el('a', { href: 'status.json' }, 'status.json'),
      this.frozen ? '' : ` · updated ${clockTime(doc.updatedAt)}`,
    );
  }

  private renderCharts(doc: StatusDocument): void {
    const steps = doc.history?.steps ?? [];
    const epochs = doc.history?.epochs ?? [];
    const clocks = steps.map((p) => p.clock);
    this.charts.loss.update(clocks, steps.map((p) => opt(p.loss)));
    this.charts.accuracy.update(clocks, steps.map((p) => opt(p.accuracy)));
    this.charts.learningRate.update(clocks, steps.map((p) => opt(p.learningRate)));
    this.charts.throughput.update(steps.map((p) => Math.round(p.t / 100) / 10), steps.map((p) => opt(p.samplesPerSecond)));
    this.charts.validation.update(epochs.map((p) => p.epoch), epochs.map((p) => opt(p.validationAccuracy)), epochs.map((p) => opt(p.accuracy)));
  }

  /** A failed poll: say so once, and keep the last document on screen. */
  lost(since: number | undefined, reason: string): void {
    this.connection.hidden = false;
    this.connection.textContent = `No answer from the ApplicationMaster${since ? ` since ${clockTime(since)}` : ''} (${reason}). When the job has ended, its report is in HDFS beside the model (horn report APP_ID).`;
  }

  connected(): void {
    this.connection.hidden = true;
  }
}

function section(title: string, id: string, headings: readonly string[], body: HTMLTableSectionElement): HTMLElement {
  return el('section', { class: 'table', id: `${id}-section` }, el('h2', {}, title), el('table', { id }, el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', {}, h)))), body));
}

function cells(...values: Child[]): HTMLTableCellElement[] {
  return values.map((v) => el('td', {}, v));
}

function stateCell(c: ContainerView): HTMLElement {
  return el('span', { class: `state ${c.state}` }, c.state, c.attempt > 0 ? ` (attempt ${c.attempt + 1})` : '');
}

function sharesBar(c: ContainerView): Child {
  if (!c.shares) return '–';
  const { compute, communication, waiting } = c.shares;
  const part = (cls: string, x: number) => el('span', { class: cls, style: `width:${(Math.max(0, Math.min(1, x)) * 100).toFixed(1)}%` });
  return el(
    'div',
    { class: 'shares', title: `compute ${percent(compute, 0)}, communication ${percent(communication, 0)}, waiting ${percent(waiting, 0)}` },
    part('compute', compute),
    part('communication', communication),
    part('waiting', waiting),
  );
}

function diagnosticsCell(c: ContainerView): Child {
  return c.diagnostics ? el('span', { class: 'diag', title: c.diagnostics }, c.diagnostics.split('\n')[0]!.slice(0, 120)) : '';
}

function workerRow(c: ContainerView): HTMLTableRowElement {
  return el(
    'tr',
    { 'data-container': `worker-${c.index}`, class: c.state },
    ...cells(
      el('span', { title: c.containerId ?? '' }, `worker ${c.index}`),
      c.group === undefined ? '–' : String(c.group),
      c.host ?? '–',
      c.locality ?? '–',
      stateCell(c),
      integer(c.clock),
      c.epoch === undefined ? '–' : String(c.epoch),
      fixed(c.loss, 4),
      integer(c.samplesPerSecond),
      sharesBar(c),
      c.bytesLocal === undefined && c.bytesRemote === undefined ? '–' : `${bytes(c.bytesLocal)} / ${bytes(c.bytesRemote)}`,
      String(c.restarts ?? 0),
      diagnosticsCell(c),
    ),
  );
}

function serverRow(c: ContainerView): HTMLTableRowElement {
  return el(
    'tr',
    { 'data-container': `server-${c.index}`, class: c.state },
    ...cells(
      el('span', { title: c.containerId ?? '' }, `server ${c.index}`),
      c.host ?? '–',
      stateCell(c),
      c.shard ? `${integer(c.shard.start)} – ${integer(c.shard.end)} (${integer(c.shard.end - c.shard.start)})` : '–',
      integer(c.clock),
      integer(c.updates),
      c.bytesIn === undefined && c.bytesOut === undefined ? '–' : `${bytes(c.bytesIn)} / ${bytes(c.bytesOut)}`,
      String(c.restarts ?? 0),
      diagnosticsCell(c),
    ),
  );
}

function groupRow(g: GroupView): HTMLTableRowElement {
  return el(
    'tr',
    { 'data-group': String(g.index) },
    ...cells(
      `group ${g.index}`,
      g.members.join(', '),
      integer(g.clock),
      g.staleness ? `${g.staleness.max} / ${g.staleness.mean.toFixed(2)}` : '–',
      integer(g.staleness?.reads),
      integer(g.samplesPerSecond),
    ),
  );
}

function embeddedDocument(): StatusDocument | undefined {
  const script = document.getElementById(EMBEDDED_ID);
  return script?.textContent ? (JSON.parse(script.textContent) as StatusDocument) : undefined;
}

async function poll(page: TrainingPage): Promise<void> {
  let lastAnswer: number | undefined;
  for (;;) {
    let final = false;
    try {
      const response = await fetch('status.json', { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const doc = (await response.json()) as StatusDocument;
      lastAnswer = Date.now();
      page.connected();
      page.render(doc);
      final = FINAL_PHASES.has(doc.phase);
    } catch (err) {
      page.lost(lastAnswer, err instanceof Error ? err.message : String(err));
    }
    if (final) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function start(): void {
  const root = document.getElementById('horn');
  if (!root) return;
  const embedded = embeddedDocument();
  const page = new TrainingPage(root, embedded !== undefined);
  document.body.dataset.mode = embedded ? 'report' : 'live';
  if (embedded) {
    page.render(embedded);
    return;
  }
  void poll(page);
}

start();
