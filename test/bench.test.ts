// The benchmark machinery, not its timings: a real suite run of small cases (report
// fields, accuracy, peer pairing), the table, the SVG plot, and the CLI's files and errors.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { plotSvg } from '../bench/plot';
import { runSuite, table, type Report, type Row } from '../bench/suite';

const cli = path.join(__dirname, '..', 'dist', 'lib', 'cli.js');

t.test('a suite run reports speed, accuracy and the peer comparison', async (t) => {
  const messages: string[] = [];
  const report = await runSuite({
    quick: true,
    filter: /^attention \S+ fp32 B1 H8 D64 N1024$|selectiveStateUpdate/,
    minRuns: 2,
    minSeconds: 0,
    progress: (m) => messages.push(m),
  });
  t.ok(report.machine.fmaPeakGflops > 0 && report.machine.copyGBs > 0, 'machine peaks measured');
  t.same(report.rows.map((r) => `${r.backend} ${r.label.split(' ')[0]}`), [
    'subquadratic fp32',
    'onnxruntime-node fp32',
    'subquadratic selectiveStateUpdate',
  ]);
  t.match(messages[messages.length - 1], /^\[3\/3\] ssm selectiveStateUpdate/);
  const [ours, ort, update] = report.rows;
  for (const r of [ours, ort, update]) {
    t.ok(r.runs! >= 2 && r.medianMs! > 0 && r.minMs! <= r.medianMs!, `${r.backend} ${r.label}: timed`);
    t.ok(r.error! < 1e-5, `${r.backend} ${r.label}: error ${r.error} against the fp64 reference`);
  }
  t.ok(ours.gflops! > 0 && ours.fractionOfPeak === ours.gflops! / report.machine.fmaPeakGflops, 'attention against the FMA peak');
  t.equal(ours.peer, 'onnxruntime-node');
  t.equal(ours.speedupVsPeer, ort.medianMs! / ours.medianMs!);
  t.equal(ort.speedupVsPeer, undefined, 'a peer is not compared with itself');
  t.ok(update.gbs! > 0 && update.fractionOfPeak === update.gbs! / report.machine.copyGBs, 'memory-bound op against copy');
});

const row = (r: Partial<Row>): Row => ({ family: 'attention', backend: 'subquadratic', label: 'fp32 D64 N1024', series: 's', ...r });

t.test('the table formats every column', async (t) => {
  const report: Report = {
    date: '',
    machine: { fmaPeakGflops: 450.7, copyGBs: 30.2, threads: 2, simd: 'avx512', cpus: '2 x cpu' },
    rows: [
      row({ medianMs: 6.7234, gflops: 319.8, fractionOfPeak: 0.7096, error: 2.4e-6, speedupVsPeer: 1.341, peer: 'ort', note: 'cos 0.99990' }),
      row({ backend: 'onnxruntime-node', label: 'fp32 D64 N16384', skipped: 'too big' }),
      row({ family: 'ssm', label: 'update', medianMs: 25.5, gbs: 24.1, rate: '1.2 G updates/s', fractionOfPeak: 0.798 }),
    ],
  };
  const lines = table(report).split('\n');
  t.match(lines[0], /fp32 FMA peak 450\.7 GFLOP\/s, copy 30\.2 GB\/s/);
  t.match(lines[2], /^family +case +backend +median ms +GFLOP\/s +GB\/s +rate +% peak +max err +vs peer +note$/);
  t.match(lines[4], /6\.723 +319\.8 +71\.0% +2\.4e-6 +1\.34x +cos 0\.99990$/);
  t.match(lines[5], /onnxruntime-node +skipped: too big$/);
  t.match(lines[6], /25\.5 +24\.1 +1\.2 G updates\/s +79\.8%$/);
});

t.test('the plot: per family, time and (beside it) throughput with the in-run peak; one line per series, peers dashed', async (t) => {
  const pts = (series: string, backend: string, ms: number[], gflops: number[]) =>
    [1024, 4096].map((x, i) => row({ series, backend, x, medianMs: ms[i], gflops: gflops[i] }));
  const report: Report = {
    date: '',
    machine: { fmaPeakGflops: 400, copyGBs: 60, threads: 1, simd: 'scalar', cpus: '' },
    rows: [
      ...pts('ours <fp32>', 'subquadratic', [6, 98], [200, 310]),
      ...pts('peer', 'onnxruntime-node', [9, 140], [130, 220]),
      row({ family: 'ssm', series: 'scan', x: 2048, medianMs: 3, gflops: 50 }),
      row({ family: 'ssm', series: 'conv', x: 2048, medianMs: 2, gbs: 40 }),
      row({ family: 'ssm', series: 'update', medianMs: 1, gbs: 30 }),  // no x: not plotted
      row({ family: 'merge', series: 'skipped', x: 1024, skipped: 'n/a' }),  // no time: not plotted
    ],
  };
  const svg = plotSvg(report);
  t.match(svg, /^<svg [^>]*width="1520" height="1260"/, 'attention: time | GFLOP/s; ssm: time | GFLOP/s, then GB/s');
  t.equal(svg.match(/<polyline /g)?.length, 4 + 4, 'time: 4 series; throughput: the same 4');
  t.equal(svg.match(/<polyline [^>]*stroke-dasharray/g)?.length, 2, 'the peer is dashed in both panels');
  t.equal(svg.match(/fp32 FMA peak 400 GFLOP\/s \(this run\)/g)?.length, 2, 'the FMA peak line in both GFLOP/s panels');
  t.match(svg, /copy 60 GB\/s \(this run\)/, 'the copy bandwidth line in the GB/s panel');
  t.match(svg, /attention: GFLOP\/s vs sequence length/);
  t.match(svg, />ours &lt;fp32>/, 'labels escaped');
  t.notMatch(svg, /update|skipped/);
});

t.test('the CLI writes the report and the plot, and rejects bad arguments', async (t) => {
  t.ok(fs.existsSync(cli), `${cli} exists (npm run build:ts)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'subq-bench-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const json = path.join(dir, 'out', 'report.json'), svg = path.join(dir, 'out', 'report.svg');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  const r = run('bench', '--quick', '--filter', '^merge', '--min-runs', '1', '--json', json, '--plot', svg);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /mergeAttentionStates fp32 B1 H32 N4096 D128 +subquadratic/);
  const report = JSON.parse(fs.readFileSync(json, 'utf8')) as Report;
  t.equal(report.rows.length, 1);
  t.ok(report.rows[0].gbs! > 0);
  t.match(fs.readFileSync(svg, 'utf8'), /^<svg .*<polyline /s);

  // Usage errors exit 2 before any case runs (a benchmark takes minutes); --help runs nothing.
  const bad = run('bench', '--json');
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--json needs a value/);
  const typo = run('bench', '--quik');
  t.equal(typo.status, 2);
  t.match(typo.stderr, /unknown bench option --quik\nusage: subquadratic <command>/);
  t.notMatch(typo.stderr, /measuring this machine/);
  const threads = run('bench', '--threads', '0');
  t.equal(threads.status, 2);
  t.match(threads.stderr, /--threads must be a whole number >= 1, got 0/);
  const help = run('bench', '--help');
  t.equal(help.status, 0);
  t.match(help.stdout, /^usage: subquadratic <command>/);
  t.equal(help.stderr, '');
  const unknown = run('frobnicate');
  t.equal(unknown.status, 2);
  t.match(unknown.stdout, /^usage: subquadratic <command>/);
  const info = run('info');
  t.equal(info.status, 0);
  t.match(info.stdout, /^subquadratic \S+\nbackends: cpu/);
});
