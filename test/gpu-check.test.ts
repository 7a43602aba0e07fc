// scripts/gpu-check.sh without a GPU: a machine whose nvidia-smi finds no device is
// reported cleanly, and a dry run on a (stubbed) sm_90 machine plans every step.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const script = path.join(__dirname, '..', 'scripts', 'gpu-check.sh');

// A directory holding an `nvidia-smi` stub, first on PATH.
function withStub(dir: string, body: string): NodeJS.ProcessEnv {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'nvidia-smi'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return { ...process.env, PATH: `${bin}:${process.env.PATH}` };
}

function run(env: NodeJS.ProcessEnv, out: string, ...args: string[]) {
  const r = spawnSync('bash', [script, out, ...args], { env, encoding: 'utf8', timeout: 60000 });
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'gpu-check.json'), 'utf8'));
  return { status: r.status, output: r.stdout + r.stderr, summary };
}

t.test('no GPU: exit 3 and the reason in gpu-check.json', async (t) => {
  const dir = t.testdir();
  const env = withStub(dir, 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver." >&2; exit 9');
  const r = run(env, path.join(dir, 'out'));
  t.equal(r.status, 3, 'exit status 3 (no GPU)');
  t.equal(r.summary.gpu, null);
  t.match(r.summary.error, /no GPU: nvidia-smi failed.*could not communicate/);
  t.same(r.summary.steps, [], 'nothing was attempted');
  t.match(fs.readFileSync(path.join(dir, 'out', 'logs', 'gpu-check.log'), 'utf8'), /no GPU/);
});

t.test('dry run on an sm_90 machine plans every step for that architecture', async (t) => {
  const dir = t.testdir();
  const env = withStub(dir, `case "$*" in *compute_cap*) echo 9.0 ;; *name*) echo "Stub H200" ;; *driver*) echo 580.1 ;; *) echo stub ;; esac`);
  const r = run(env, path.join(dir, 'out'), '--dry-run');
  if (r.summary.nvcc === '') {
    // Without the toolkit the script stops before planning, and says why.
    t.equal(r.status, 3);
    t.match(r.summary.error, /nvcc/);
    return;
  }
  t.equal(r.status, 0, `exit status 0: ${r.output.slice(-300)}`);
  t.equal(r.summary.gpu, 'Stub H200');
  t.equal(r.summary.arch, '90');
  t.equal(r.summary.dryRun, true);
  const names = r.summary.steps.map((s: { name: string }) => s.name);
  for (const n of ['configure', 'build-tests', 'build-bench', 'native-tests', 'bench'])
    t.ok(names.includes(n), `plans ${n}`);
  t.ok(r.summary.steps.every((s: { status: string }) => s.status === 'skipped'), 'runs nothing');
  t.notOk(fs.existsSync(path.join(dir, 'out', 'build')), 'no build directory');
});

t.test('usage errors', async (t) => {
  t.equal(spawnSync('bash', [script], { encoding: 'utf8' }).status, 2);
  t.equal(spawnSync('bash', [script, t.testdir(), '--bogus'], { encoding: 'utf8' }).status, 2);
});

// scripts/gpu-quick.sh: the same stub machine; its dry run needs no GPU at all.
const quick = path.join(__dirname, '..', 'scripts', 'gpu-quick.sh');
const hasPython = spawnSync('python3', ['--version']).status === 0;

function runQuick(env: NodeJS.ProcessEnv, dir: string, ...args: string[]) {
  const out = path.join(dir, 'out');
  const r = spawnSync('bash', [quick, out, ...args], { env: { ...env, SUBQ_GPU_WORK: path.join(dir, 'work') }, encoding: 'utf8', timeout: 60000 });
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  return { status: r.status, output: r.stdout + r.stderr, summary, files: fs.readdirSync(out).sort() };
}

const stepsOf = (summary: { steps: { name: string; status: string; detail: string }[] }) => summary.steps;

t.test('gpu-quick dry run without a GPU: the plan, the tools, nothing run', async (t) => {
  const dir = t.testdir();
  const env = withStub(dir, 'echo "NVIDIA-SMI has failed" >&2; exit 9');
  const r = runQuick(env, dir, '--dry-run');
  t.equal(r.status, 0, `exit status 0: ${r.output.slice(-300)}`);
  t.match(r.summary.machine.error, /no GPU: nvidia-smi failed/);
  t.equal(r.summary.machine.dryRun, true);
  const names = stepsOf(r.summary).map((s) => s.name);
  t.same(names, ['configure', 'build', 'native-tests', 'bench', 'peers', 'ncu-ours', 'ncu-flash', 'memcheck', 'racecheck'], 'every step, in order, built here');
  t.ok(stepsOf(r.summary).every((s) => s.status === 'skipped' && /^dry run: would run/.test(s.detail)), 'runs nothing');
  t.match(stepsOf(r.summary).find((s) => s.name === 'bench')!.detail, /--quick --json/);
  t.match(stepsOf(r.summary).find((s) => s.name === 'ncu-ours')!.detail, /InstructionStats.*SchedulerStats.*WarpStateStats.*attention fp16 B4 H16 N4096 D128/);
  t.match(r.output, /nvcc: .*cmake: .*python3: .*ncu: .*compute-sanitizer: /, 'the tools are reported');
  t.ok(r.files.length <= 4 && r.files.includes('summary.json'), `OUTDIR holds at most 4 files: ${r.files.join(', ')}`);
  t.notOk(fs.existsSync(path.join(dir, 'out', 'logs')), 'logs stay in the work folder');
  t.ok(fs.existsSync(path.join(dir, 'work', 'logs', 'gpu-quick.log')), 'the log is in the work folder');
});

t.test('gpu-quick dry run with prebuilt executables plans no build', async (t) => {
  const dir = t.testdir();
  const env = withStub(dir, `case "$*" in *compute_cap*) echo 9.0 ;; *name*) echo "Stub H200" ;; *driver*) echo 580.1 ;; *) echo stub ;; esac`);
  const pre = path.join(dir, 'pre');
  fs.mkdirSync(pre);
  for (const e of ['subq_native_tests_device', 'subq_bench_native']) fs.writeFileSync(path.join(pre, e), '#!/bin/sh\n', { mode: 0o755 });
  const r = runQuick(env, dir, '--prebuilt', pre, '--dry-run');
  t.equal(r.status, 0, r.output.slice(-300));
  t.equal(r.summary.machine.gpu, 'Stub H200');
  t.equal(r.summary.machine.arch, '90');
  const names = stepsOf(r.summary).map((s) => s.name);
  t.notOk(names.includes('configure') || names.includes('build'), 'nothing to build');
  t.match(stepsOf(r.summary).find((s) => s.name === 'native-tests')!.detail, new RegExp(`${pre}/subq_native_tests_device`));
});

t.test('gpu-quick: usage errors, and a real run without a GPU stops with 3', async (t) => {
  t.equal(spawnSync('bash', [quick], { encoding: 'utf8' }).status, 2);
  t.equal(spawnSync('bash', [quick, t.testdir(), '--bogus'], { encoding: 'utf8' }).status, 2);
  t.equal(spawnSync('bash', [quick, '--prebuild'], { encoding: 'utf8' }).status, 2);
  const dir = t.testdir();
  const inside = spawnSync('bash', [quick, path.join(dir, 'out'), '--dry-run'], { env: { ...process.env, SUBQ_GPU_WORK: path.join(dir, 'out', 'w') }, encoding: 'utf8' });
  t.equal(inside.status, 2, 'a work folder inside OUTDIR is refused');
  const env = withStub(dir, 'exit 9');
  const r = runQuick(env, dir);
  t.equal(r.status, 3);
  t.same(stepsOf(r.summary), [], 'nothing was attempted');
});

t.test('gpu-quick report: peer ratios, copy fractions and targets', { skip: hasPython ? false : 'python3 is not installed here' }, async (t) => {
  const dir = t.testdir();
  const shape = { B: 4, Hq: 16, Hkv: 16, Nq: 16384, Nk: 16384, D: 128, causal: false };
  const bench = {
    device: { name: 'Stub H200', computeCapability: '9.0' },
    copyBandwidthGBs: 4000,
    cases: [
      { name: 'attention fp16 B4 H16 N16384 D128', op: 'attention', dtype: 'fp16', ...shape, median_ms: 20, tflops: 440 },
      { name: 'attention bf16 B4 H16 N16384 D128', op: 'attention', dtype: 'bf16', ...shape, error: 'launch failed' },
      { name: 'decode fp16', op: 'decode', dtype: 'fp16', B: 8, Hq: 32, Hkv: 8, Nq: 1, Nk: 32768, D: 128, causal: false, median_ms: 0.1, copyFraction: 0.65 },
      { name: 'scan fp32 b8 d1536 N16 L2048', op: 'scan', dtype: 'fp32', median_ms: 1, copyFraction: 0.61 },
      { name: 'quant int8 fp16 B4 H16 N16384 D128', op: 'quant', qkBits: 8, dtype: 'fp16', ...shape, median_ms: 12.5 },
      { name: 'quant int8 bf16 B4 H16 N16384 D128', op: 'quant', qkBits: 8, dtype: 'bf16', ...shape, median_ms: 12.5 },
    ],
  };
  const peers = {
    torch: '2.11.0',
    rows: [
      { op: 'attention', dtype: 'fp16', ...shape, backend: 'flash', median_ms: 25, tflops: 352 },
      { op: 'attention', dtype: 'fp16', ...shape, backend: 'cudnn', median_ms: 16, tflops: 550 },
      { op: 'attention', dtype: 'fp16', ...shape, backend: 'efficient', error: 'No available kernel' },
    ],
  };
  const steps = { machine: { gpu: 'Stub H200' }, steps: [{ name: 'bench', status: 'ok', seconds: 12, detail: 'done' }] };
  for (const [f, v] of [['bench.json', bench], ['peers.json', peers], ['steps.json', steps]] as const)
    fs.writeFileSync(path.join(dir, f), JSON.stringify(v));
  const r = spawnSync('python3', [path.join(__dirname, '..', 'scripts', 'gpu_quick.py'), 'report', '--bench', path.join(dir, 'bench.json'),
    '--peers', path.join(dir, 'peers.json'), '--steps', path.join(dir, 'steps.json'), '--json', path.join(dir, 's.json'), '--md', path.join(dir, 't.md')], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const s = JSON.parse(fs.readFileSync(path.join(dir, 's.json'), 'utf8'));
  const [fp16, bf16, decode, scan, qf16, qbf16] = s.rows;
  t.equal(fp16.peers.flash.ratio, 25 / 20, 'flash: peer time / ours');
  t.equal(fp16.peers.cudnn.ratio, 16 / 20);
  t.same(fp16.peers.efficient, { error: 'No available kernel' });
  t.same(fp16.targets, [{ target: '>= 1.0x PyTorch flash', value: 1.25, met: true }]);
  t.same(bf16.peers, { flash: null, cudnn: null, efficient: null }, 'no peer row: null');
  t.same(bf16.targets, [{ target: '>= 1.0x PyTorch flash', value: null, met: null }]);
  t.same(decode.targets, [{ target: '>= 0.70 of copy bandwidth', value: 0.65, met: false }]);
  t.same(scan.targets, [{ target: '>= 0.60 of copy bandwidth', value: 0.61, met: true }]);
  t.same(qf16.targets, [{ target: '>= 1.5x our dense kernel', value: 20 / 12.5, met: true }], 'INT8: dense time at the same shape / ours');
  t.same(qbf16.targets, [{ target: '>= 1.5x our dense kernel', value: null, met: null }], 'the dense row failed: no ratio');
  t.same(s.steps, steps.steps);
  const md = fs.readFileSync(path.join(dir, 't.md'), 'utf8');
  t.match(md, /\| attention fp16 B4 H16 N16384 D128 \| 20\.000 \| 440\.0 \| - \| 25\.000 \(1\.25x\) \| 16\.000 \(0\.80x\) \| refused \|/);
  t.match(md, /FAILED: launch failed/);
  t.match(md, /\| bench \| ok \| 12 \| done \|/);
});
