// The benchmark suite: runs cases, times them (median of >= 5 runs after a
// warm-up, buffers reused), reports speed against this machine's peak measured
// in the same run, accuracy against the fp64 reference, and peers.
import * as os from 'os';
import { backendInfo, setNumThreads } from '../lib';
import { native } from '../lib/native';
import { families } from './cases';

export interface CaseRun {
  /** One timed iteration; reuses its buffers. */
  run: () => unknown;
  /**
   * Useful work per iteration: FLOPs (compute-bound ops) or bytes (memory-bound ops),
   * and optionally a count in the op's own unit (e.g. state updates) for a rate column.
   */
  work: { flops?: number; bytes?: number; items?: number; unit?: string };
  /** After the runs: max error against the fp64 reference, relative to the output scale. */
  error?: () => number;
  /** After the runs: a note for the report (e.g. accuracy measures beside the speed). */
  note?: () => string;
}

export interface BenchCase {
  family: string;
  backend: string;   // 'subquadratic' or a peer's name
  label: string;     // shape and options
  series: string;    // one line of the plot
  x?: number;        // sequence length (plot x axis); none: not plotted
  peerKey?: string;  // cases with equal keys are compared with each other
  setup: () => Promise<CaseRun | { skip: string }>;
}

export interface Family {
  name: string;
  cases: (o: { quick: boolean }) => BenchCase[];
}

export interface Row {
  family: string;
  backend: string;
  label: string;
  series: string;
  x?: number;
  skipped?: string;
  runs?: number;
  medianMs?: number;
  minMs?: number;
  gflops?: number;
  gbs?: number;
  rate?: string;  // items per second in the op's own unit, e.g. "14.2 G updates/s"
  fractionOfPeak?: number;
  error?: number;
  speedupVsPeer?: number;
  peer?: string;
  note?: string;
}

export interface Report {
  date: string;
  machine: { fmaPeakGflops: number; copyGBs: number; threads: number; simd: string; cpus: string };
  rows: Row[];
}

export interface Options {
  quick: boolean;
  filter?: RegExp;
  threads?: number;
  minRuns: number;
  minSeconds: number;
  progress: (msg: string) => void;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function time(run: CaseRun, o: Options): Promise<number[]> {
  await run.run();  // warm-up: first-touch pages, caches, thread start
  const times: number[] = [];
  const start = performance.now();
  while (times.length < o.minRuns || (performance.now() - start < o.minSeconds * 1000 && times.length < 50)) {
    const t0 = performance.now();
    await run.run();
    times.push(performance.now() - t0);
  }
  return times;
}

export async function runSuite(o: Options): Promise<Report> {
  const n = native();
  if (o.threads) setNumThreads(o.threads);
  const info = backendInfo();
  const threads = info.cpu.threads;
  o.progress(`measuring this machine: fp32 FMA peak and copy bandwidth on ${threads} thread(s)`);
  const peak0 = n.fmaPeak(threads, 1.0);
  const copy = n.copyBandwidth(threads, 0.5);

  const cases = families.flatMap((f) => f.cases({ quick: o.quick })).filter((c) => !o.filter || o.filter.test(`${c.family} ${c.backend} ${c.label}`));
  const rows: Row[] = [];
  for (const [i, c] of cases.entries()) {
    const row: Row = { family: c.family, backend: c.backend, label: c.label, series: c.series, x: c.x };
    o.progress(`[${i + 1}/${cases.length}] ${c.family} ${c.label} (${c.backend})`);
    const run = await c.setup();
    if ('skip' in run) {
      row.skipped = run.skip;
    } else {
      const times = await time(run, o);
      row.runs = times.length;
      row.medianMs = median(times);
      row.minMs = Math.min(...times);
      const sec = row.medianMs / 1000;
      if (run.work.flops) row.gflops = run.work.flops / sec / 1e9;
      if (run.work.bytes) row.gbs = run.work.bytes / sec / 1e9;
      if (run.work.items) row.rate = `${(run.work.items / sec / 1e9).toFixed(2)} G ${run.work.unit ?? 'items'}/s`;
      if (run.error) row.error = run.error();
      if (run.note) row.note = run.note();
    }
    rows.push(row);
    (c as { row?: Row }).row = row;
  }
  // The peak again at the end: noise only lowers a measurement, so keep the best.
  const peak = Math.max(peak0, n.fmaPeak(threads, 1.0));
  for (const r of rows) {
    if (r.gflops !== undefined) r.fractionOfPeak = r.gflops / peak;
    else if (r.gbs !== undefined) r.fractionOfPeak = r.gbs / copy;
  }
  for (const c of cases) {
    const row = (c as { row?: Row }).row!;
    if (!c.peerKey || c.backend !== 'subquadratic' || row.medianMs === undefined) continue;
    const peer = cases.find((p) => p.backend !== 'subquadratic' && p.peerKey === c.peerKey && (p as { row?: Row }).row?.medianMs !== undefined);
    if (peer) {
      row.speedupVsPeer = (peer as { row?: Row }).row!.medianMs! / row.medianMs;
      row.peer = peer.backend;
    }
  }
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    machine: { fmaPeakGflops: peak, copyGBs: copy, threads, simd: info.cpu.simd, cpus: `${cpus.length} x ${cpus[0]?.model ?? '?'}` },
    rows,
  };
}

const fmt = (x: number | undefined, digits = 1) => (x === undefined ? '' : x.toFixed(digits));

export function table(r: Report): string {
  const head = ['family', 'case', 'backend', 'median ms', 'GFLOP/s', 'GB/s', 'rate', '% peak', 'max err', 'vs peer', 'note'];
  const body = r.rows.map((x) => [
    x.family,
    x.label,
    x.backend,
    x.skipped ? `skipped: ${x.skipped}` : fmt(x.medianMs, x.medianMs !== undefined && x.medianMs < 10 ? 3 : 1),
    fmt(x.gflops),
    fmt(x.gbs),
    x.rate ?? '',
    x.fractionOfPeak === undefined ? '' : `${(x.fractionOfPeak * 100).toFixed(1)}%`,
    x.error === undefined ? '' : x.error.toExponential(1),
    x.speedupVsPeer === undefined ? '' : `${x.speedupVsPeer.toFixed(2)}x`,
    x.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i].startsWith('skipped') ? 0 : b[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 && !c.startsWith('skipped') ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const m = r.machine;
  return [
    `machine: ${m.cpus}; ${m.threads} threads, ${m.simd}; fp32 FMA peak ${m.fmaPeakGflops.toFixed(1)} GFLOP/s, copy ${m.copyGBs.toFixed(1)} GB/s (measured in this run)`,
    '% peak: of the FMA peak for GFLOP/s rows, of the copy bandwidth for GB/s rows. max err: vs the fp64 reference, relative to the output scale.',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}
