#!/usr/bin/env node
// Install step: use a prebuilt binary that loads, else build with cmake-js, else
// with node-gyp (CPU only). Nothing is downloaded. When every way fails, one
// error lists each attempt and how to fix it.
//   --build-from-source   skip the prebuild check
'use strict';
const { spawnSync } = require('child_process');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const fromSource =
  process.argv.includes('--build-from-source') ||
  /^(1|true|subquadratic)$/.test(process.env.npm_config_build_from_source || '');

// Loads the addon in a child process so a broken binary cannot take this one down.
function loads() {
  const r = spawnSync(process.execPath, ['-e', `require('node-gyp-build')(${JSON.stringify(root)})`], {
    cwd: root,
    encoding: 'utf8',
  });
  return { ok: r.status === 0, why: (r.stderr || '').trim().split('\n').slice(-3).join(' ') };
}

function run(cmd, args, env) {
  console.log(`subquadratic: ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.error) return `could not start ${cmd}: ${r.error.message}`;
  return r.status === 0 ? null : `${path.basename(cmd)} exited with status ${r.status}`;
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
}

const attempts = [];
if (!fromSource) {
  const l = loads();
  if (l.ok) {
    console.log('subquadratic: using a prebuilt binary');
    process.exit(0);
  }
  attempts.push(['prebuilt binary (prebuilds/ or build/Release)', l.why || 'none matches this platform',
    'a prebuild exists only for the platforms in prebuilds/; a source build follows']);
}

const jobs = String(Math.max(1, os.cpus().length));
let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  cmakeJs = null;
}
if (!cmakeJs) {
  attempts.push(['cmake-js', 'the cmake-js package is not installed', 'run npm install again (it is a dependency)']);
} else if (!has('cmake')) {
  attempts.push(['cmake-js', 'cmake is not on PATH', 'install cmake >= 3.18 (Debian/Ubuntu: apt-get install cmake)']);
} else {
  const err = run(process.execPath, [cmakeJs, 'build', '--parallel', jobs, '--log-level', 'warn']);
  if (!err && loads().ok) process.exit(0);
  attempts.push(['cmake-js build', err || 'the built addon does not load',
    'see the compiler output above; SUBQ_CUDA=0 disables the CUDA backend, SUBQ_CUDA_ARCHS=90 builds one GPU architecture']);
}

let nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp) {
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    nodeGyp = null;
  }
}
if (!nodeGyp) {
  attempts.push(['node-gyp', 'node-gyp was not found', 'run the install through npm, which bundles node-gyp']);
} else {
  const err = run(process.execPath, [nodeGyp, 'rebuild', `--jobs=${jobs}`]);
  if (!err && loads().ok) process.exit(0);
  attempts.push(['node-gyp rebuild (CPU only)', err || 'the built addon does not load',
    'needs python3, make and a C++20 compiler (g++ >= 10 or clang >= 12)']);
}

console.error('\nsubquadratic: could not get a working native addon. Tried:');
attempts.forEach(([what, why, fix], i) => console.error(`  ${i + 1}. ${what}: ${why}\n     fix: ${fix}`));
console.error('Then run `npm rebuild subquadratic`.');
process.exit(1);
