#!/usr/bin/env node
// The one source list of the native addon, read by CMakeLists.txt and binding.gyp.
//   node scripts/sources.js <group> [--cmake]
// groups: portable (no ISA flags), avx2, avx512, avx512bf16 (AVX-512 plus AVX512-BF16)
// (compiled with those ISA flags and called only after run-time detection), cuda (*.cu),
// nocuda (stand-ins when CUDA is off).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const dirs = ['core', 'ops', 'cpu', 'napi', 'cuda'];

function list(ext) {
  const out = [];
  for (const d of dirs) {
    const abs = path.join(root, 'csrc', d);
    if (!fs.existsSync(abs)) continue;
    for (const f of fs.readdirSync(abs).sort()) if (f.endsWith(ext)) out.push(`csrc/${d}/${f}`);
  }
  return out;
}

const isa = (f) => (/_avx512\.cpp$/.test(f) ? 'avx512' : /_avx512bf16\.cpp$/.test(f) ? 'avx512bf16' : /_avx2\.cpp$/.test(f) ? 'avx2' : null);
const cpp = list('.cpp');
const nocuda = cpp.filter((f) => f.startsWith('csrc/cuda/'));
const groups = {
  portable: cpp.filter((f) => !isa(f) && !f.startsWith('csrc/cuda/')),
  avx2: cpp.filter((f) => isa(f) === 'avx2'),
  avx512: cpp.filter((f) => isa(f) === 'avx512'),
  avx512bf16: cpp.filter((f) => isa(f) === 'avx512bf16'),
  cuda: list('.cu'),
  nocuda,
};

if (require.main === module) {
  const group = process.argv[2];
  if (!groups[group]) {
    console.error(`usage: sources.js <${Object.keys(groups).join('|')}> [--cmake]`);
    process.exit(2);
  }
  process.stdout.write(groups[group].join(process.argv.includes('--cmake') ? ';' : ' '));
}
module.exports = groups;
