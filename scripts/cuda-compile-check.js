#!/usr/bin/env node
// Compiles every csrc/cuda/*.cu for sm_80 and sm_90 with `ptxas -v` and checks
// what ptxas reports:
//   - any compile error fails;
//   - a register spill in a main kernel (attention forward, selective scan) fails
//     (others are listed);
//   - static shared memory above the architecture's limit fails. (Dynamic shared
//     memory is checked at compile time: the tile structs static_assert their size.)
//   node scripts/cuda-compile-check.js [--json] [--jobs N] [--arch 80,90]
// Exit status 0 when all checks pass, 1 when one fails, 2 when nvcc is missing.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawn } = require('child_process');

const root = path.join(__dirname, '..');
// Static __shared__ is limited to 48 KiB per block on every architecture.
const STATIC_SMEM_LIMIT = 48 * 1024;
const MAIN_KERNEL = /attn_fwd|selective_scan/;

function findNvcc() {
  const candidates = [];
  if (process.env.CUDACXX) candidates.push(process.env.CUDACXX);
  for (const dir of (process.env.PATH || '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'nvcc'));
  candidates.push('/usr/local/cuda/bin/nvcc');
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // not there or not executable: try the next candidate
    }
  }
  return null;
}

function demangler(nvcc) {
  for (const tool of [path.join(path.dirname(nvcc), 'cu++filt'), 'c++filt']) {
    try {
      execFileSync(tool, ['_Z1fv'], { stdio: 'pipe' });
      return (names) => {
        if (!names.length) return [];
        const out = execFileSync(tool, names, { encoding: 'utf8' }).trim().split('\n');
        return out.length === names.length ? out : names;
      };
    } catch {
      // this demangler is missing: try the next one
    }
  }
  return (names) => names;
}

// ptxas -v output -> [{kernel, arch, registers, spillStores, spillLoads, stack, smem}]
function parsePtxas(text) {
  const kernels = [];
  let cur = null;
  for (const line of text.split('\n')) {
    let m = line.match(/Compiling entry function '([^']+)' for '(sm_\d+a?)'/);
    if (m) {
      cur = { kernel: m[1], arch: m[2], registers: 0, spillStores: 0, spillLoads: 0, stack: 0, smem: 0 };
      kernels.push(cur);
      continue;
    }
    if (!cur) continue;
    m = line.match(/(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/);
    if (m) [cur.stack, cur.spillStores, cur.spillLoads] = [+m[1], +m[2], +m[3]];
    m = line.match(/Used (\d+) registers/);
    if (m) cur.registers = +m[1];
    m = line.match(/(\d+) bytes smem/);
    if (m) cur.smem = +m[1];
  }
  return kernels;
}

function compile(nvcc, file, archs) {
  const out = path.join(os.tmpdir(), `subq-cc-${process.pid}-${path.basename(file)}.o`);
  const args = ['-std=c++17', '-O3', '--expt-relaxed-constexpr', '-Xptxas', '-v', '-c', file, '-o', out];
  for (const a of archs) args.push('-gencode', `arch=compute_${a},code=sm_${a}`);
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(nvcc, args, { cwd: root });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('close', (code) => {
      fs.rmSync(out, { force: true });
      resolve({ file: path.relative(root, file), code, text, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

async function check({ archs = [80, 90], jobs = 2 } = {}) {
  const nvcc = findNvcc();
  if (!nvcc) return { nvcc: null };
  const dir = path.join(root, 'csrc', 'cuda');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cu')).sort().map((f) => path.join(dir, f));
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, files.length) }, async () => {
      while (next < files.length) results.push(await compile(nvcc, files[next++], archs));
    }),
  );
  results.sort((a, b) => a.file.localeCompare(b.file));
  const demangle = demangler(nvcc);
  const failures = [];
  const kernels = [];
  for (const r of results) {
    if (r.code !== 0) failures.push(`${r.file}: nvcc failed (exit ${r.code})\n${r.text.trim()}`);
    const ks = parsePtxas(r.text);
    const names = demangle(ks.map((k) => k.kernel));
    ks.forEach((k, i) => kernels.push({ ...k, name: names[i], file: r.file }));
  }
  for (const k of kernels) {
    const spills = k.spillStores + k.spillLoads;
    if (spills && MAIN_KERNEL.test(k.name))
      failures.push(`${k.file}: ${k.name} (${k.arch}) spills ${k.spillStores} bytes stores / ${k.spillLoads} bytes loads`);
    if (k.smem > STATIC_SMEM_LIMIT)
      failures.push(`${k.file}: ${k.name} (${k.arch}) uses ${k.smem} bytes of static shared memory (limit ${STATIC_SMEM_LIMIT})`);
  }
  return { nvcc, archs, files: results.map(({ file, code, seconds }) => ({ file, code, seconds })), kernels, failures };
}

function table(res) {
  const rows = res.kernels.map(
    (k) => `${k.arch.padEnd(6)} ${String(k.registers).padStart(4)} regs ${String(k.spillStores + k.spillLoads).padStart(5)} B spill ` +
      `${String(k.stack).padStart(5)} B stack ${String(k.smem).padStart(6)} B smem  ${k.name}`,
  );
  const times = res.files.map((f) => `${f.file}: ${f.seconds.toFixed(1)} s${f.code ? ' FAILED' : ''}`);
  return [...times, ...rows].join('\n');
}

module.exports = { check, findNvcc, parsePtxas, table };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const usage = 'usage: node scripts/cuda-compile-check.js [--json] [--jobs N] [--arch 80,90]';
  for (let k = 0; k < argv.length; ++k) {
    const a = argv[k];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    if (a === '--jobs' || a === '--arch') ++k;
    else if (a !== '--json') {
      console.error(`cuda-compile-check: unknown argument ${a}\n${usage}`);
      process.exit(2);
    }
  }
  const opt = {};
  const i = argv.indexOf('--jobs');
  if (i >= 0) opt.jobs = +argv[i + 1];
  const a = argv.indexOf('--arch');
  if (a >= 0) opt.archs = argv[a + 1].split(',').map(Number);
  check(opt).then((res) => {
    if (!res.nvcc) {
      console.error('cuda-compile-check: nvcc not found (set CUDACXX or put nvcc on PATH)');
      process.exit(2);
    }
    if (argv.includes('--json')) console.log(JSON.stringify(res, null, 1));
    else {
      console.log(table(res));
      for (const f of res.failures) console.error(`FAIL ${f}`);
      console.log(res.failures.length ? `${res.failures.length} check(s) failed` : 'all CUDA compile checks passed');
    }
    process.exit(res.failures.length ? 1 : 0);
  });
}
