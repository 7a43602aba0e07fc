// The native (C++) tests, per family: builds test/native into build-native/ (once,
// under a lock, as tap runs the family files in parallel) with the CUDA kernels
// compiled for the SIMT emulator, and runs one family's cases in two thread orders
// (one assertion per case).
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..');
const build = path.join(root, 'build-native');
const lock = path.join(root, 'build-native.lock');

interface Run {
  code: number | null;
  out: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => resolve({ code: -1, out: out + String(e) }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

function parseTap(out: string) {
  const cases: { ok: boolean; name: string; why: string }[] = [];
  for (const line of out.split('\n')) {
    const m = line.match(/^(not ok|ok) \d+ - (.*?)(?: # (.*))?$/);
    if (m) cases.push({ ok: m[1] === 'ok', name: m[2], why: m[3] ?? '' });
  }
  return cases;
}

// mkdir is atomic: the first file builds, the others wait and then find it up to date.
// A lock older than the build could take is a crashed run's, and is taken over.
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 20 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch { /* gone meanwhile */ }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the native test binary (once); its path, or null after failing assertions. */
export async function nativeBinary(t: Test): Promise<string | null> {
  return withLock(async () => {
    const configure = await run('cmake', ['-S', root, '-B', build, '-DSUBQ_NATIVE_TESTS=ON', '-DSUBQ_NO_CUDA=ON',
      '-DCMAKE_BUILD_TYPE=Release']);
    t.equal(configure.code, 0, 'cmake configures build-native', { output: configure.out.slice(-4000) });
    if (configure.code !== 0) return null;
    const compiled = await run('cmake', ['--build', build, '--target', 'subq_native_tests', '-j2']);
    t.equal(compiled.code, 0, 'the native tests build', { output: compiled.out.slice(-4000) });
    return compiled.code === 0 ? path.join(build, 'test', 'native', 'subq_native_tests') : null;
  });
}

/** Runs the cases selected by `args` (--filter / --exclude) in both thread orders. */
export async function runFamily(t: Test, args: string[], minCases: number) {
  const binary = await nativeBinary(t);
  if (!binary) return;
  const orders = ['normal', 'reverse'];
  const runs = await Promise.all(orders.map((o) => run(binary, args, { SIMT_SCHEDULE: o })));
  orders.forEach((order, i) => {
    const r = runs[i];
    const cases = parseTap(r.out);
    t.ok(cases.length >= minCases, `order ${order}: the binary ran its cases (${cases.length} >= ${minCases})`, { tail: r.out.slice(-2000) });
    for (const c of cases) t.ok(c.ok, `${order}: ${c.name}`, c.ok ? {} : { why: c.why });
    t.equal(r.code, cases.some((c) => !c.ok) ? 1 : 0, `order ${order}: exit status matches the results`);
    const summary = r.out.match(/^# \d+ passed.*$/m);
    if (summary) t.comment(`${order}: ${summary[0].slice(2)}`);
  });
}
