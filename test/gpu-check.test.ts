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
