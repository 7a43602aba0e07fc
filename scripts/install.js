#!/usr/bin/env node
// Install step: use a prebuilt binary that loads, else build with cmake-js, else
// with node-gyp (CPU only). Nothing is downloaded. When every way fails, one
// error lists each attempt and how to fix it.
//   --build-from-source   skip the prebuild check
// A prebuilt binary is one from prebuilds/ that reports this package's version; a
// build/ configured for another source directory is removed before building.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const fromSource =
  process.argv.includes('--build-from-source') ||
  /^(1|true|subquadratic)$/.test(process.env.npm_config_build_from_source || '');

const version = require(path.join(root, 'package.json')).version;

// Loads the binary node-gyp-build picks, in a child process so a broken binary
// cannot take this one down. `prebuiltOnly`: it must come from prebuilds/ (a
// build/Release left by some other build is not a prebuilt binary: the source build
// updates it) and report the package version `want`.
function loads(dir = root, prebuiltOnly = false, want = version) {
  const code = `
    const path = require('path');
    const file = require(${JSON.stringify(require.resolve('node-gyp-build'))}).path(${JSON.stringify(dir)});
    const inPrebuilds = path.relative(path.join(${JSON.stringify(dir)}, 'prebuilds'), file).split(path.sep)[0] !== '..';
    if (${prebuiltOnly} && !inPrebuilds) { console.error('no prebuilt binary for this platform in prebuilds/'); process.exit(2); }
    const v = require(file).version;
    if (${prebuiltOnly} && v !== ${JSON.stringify(want)}) { console.error(file + ' is version ' + v + ', not ' + ${JSON.stringify(want)}); process.exit(3); }`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: dir, encoding: 'utf8' });
  return { ok: r.status === 0, why: (r.stderr || '').trim().split('\n').slice(-3).join(' ') };
}

// A build/ configured for another source directory (copied from another checkout)
// would build that checkout: the reason, or null when build/ is this package's.
function foreignBuild(dir = root) {
  let cache;
  try {
    cache = fs.readFileSync(path.join(dir, 'build', 'CMakeCache.txt'), 'utf8');
  } catch {
    return null;
  }
  const m = cache.match(/^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$/m);
  const real = (p) => { try { return fs.realpathSync(p); } catch { return path.resolve(p); } };
  if (m && real(m[1].trim()) === real(dir)) return null;
  return `build/ was configured for ${m ? m[1].trim() : 'an unknown source directory'}, not ${dir}`;
}

module.exports = { loads, foreignBuild };
if (require.main !== module) return;

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
  const l = loads(root, true);
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
  const foreign = foreignBuild();
  if (foreign) {
    console.log(`subquadratic: ${foreign}; removing it to configure afresh`);
    fs.rmSync(path.join(root, 'build'), { recursive: true, force: true });
  }
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
