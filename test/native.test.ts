// The native (C++) tests: builds test/native into build-native/ with the CUDA
// kernels compiled for the SIMT emulator, runs every case in two thread orders
// (one assertion per case), and, when nvcc exists, compiles every csrc/cuda/*.cu
// for sm_80 and sm_90 and checks ptxas's report (scripts/cuda-compile-check.js).
import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { backendInfo } from '../lib';

const root = path.join(__dirname, '..');
const build = path.join(root, 'build-native');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const compileCheck = require('../scripts/cuda-compile-check.js');

interface Run {
  code: number | null;
  out: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => resolve({ code: -1, out: out + String(e) }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

interface CaseResult {
  ok: boolean;
  name: string;
  why: string;
}

function parseTap(out: string): CaseResult[] {
  const cases: CaseResult[] = [];
  for (const line of out.split('\n')) {
    const m = line.match(/^(not ok|ok) \d+ - (.*?)(?: # (.*))?$/);
    if (m) cases.push({ ok: m[1] === 'ok', name: m[2], why: m[3] ?? '' });
  }
  return cases;
}

t.test('native tests under the SIMT emulator', async (t) => {
  const configure = await run('cmake', ['-S', root, '-B', build, '-DSUBQ_NATIVE_TESTS=ON', '-DSUBQ_NO_CUDA=ON',
    '-DCMAKE_BUILD_TYPE=Release']);
  t.equal(configure.code, 0, 'cmake configures build-native', { output: configure.out.slice(-4000) });
  const compiled = await run('cmake', ['--build', build, '--target', 'subq_native_tests', '-j2']);
  t.equal(compiled.code, 0, 'the native tests build', { output: compiled.out.slice(-4000) });
  if (compiled.code !== 0) return;

  const binary = path.join(build, 'test', 'native', 'subq_native_tests');
  const orders = ['normal', 'reverse'];
  const runs = await Promise.all(orders.map((o) => run(binary, [], { SIMT_SCHEDULE: o })));
  orders.forEach((order, i) => {
    const r = runs[i];
    const cases = parseTap(r.out);
    t.ok(cases.length > 350, `order ${order}: the binary ran its cases (${cases.length})`, { tail: r.out.slice(-2000) });
    for (const c of cases) t.ok(c.ok, `${order}: ${c.name}`, c.ok ? {} : { why: c.why });
    t.equal(r.code, cases.some((c) => !c.ok) ? 1 : 0, `order ${order}: exit status matches the results`);
    const summary = r.out.match(/^# \d+ passed.*$/m);
    if (summary) t.comment(`${order}: ${summary[0].slice(2)}`);
  });
});

t.test('CUDA compile check (sm_80, sm_90, ptxas -v)', async (t) => {
  if (!compileCheck.findNvcc()) {
    t.comment('nvcc not found: the CUDA compile check did not run on this machine');
    t.equal(backendInfo().cuda.compiled, false, 'and the addon was built without the CUDA backend');
    return;
  }
  const res = await compileCheck.check({ archs: [80, 90], jobs: 2 });
  for (const f of res.files) t.equal(f.code, 0, `${f.file} compiles for sm_80 and sm_90`);
  t.ok(res.kernels.some((k: { name: string }) => /attn_fwd_tc/.test(k.name)), 'ptxas reported the attention kernels');
  t.ok(res.kernels.some((k: { name: string }) => /selective_scan/.test(k.name)), 'ptxas reported the selective scan kernels');
  t.same(res.failures, [], 'no errors, no spills in the main attention kernels, shared memory within limits');
  t.comment(compileCheck.table(res));
});
