#!/usr/bin/env node
// npm run release:prebuild: prebuilds/<platform>-<arch>/ through prebuildify, which
// runs cmake-js (via --node-gyp) instead of node-gyp. Not named `prebuild`: npm runs
// a script of that name before every `npm run build`.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
if (process.argv[2] === '--as-node-gyp') {
  // prebuildify calls us like node-gyp: "rebuild ..." and expects build/Release/*.node.
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const r = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--log-level', 'warn'], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const shim = path.join(root, 'build', 'cmake-js-as-node-gyp.sh');
fs.mkdirSync(path.dirname(shim), { recursive: true });
fs.writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${__filename}" --as-node-gyp "$@"\n`, { mode: 0o755 });
const prebuildify = require.resolve('prebuildify/bin.js');
const r = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', `--node-gyp=${shim}`], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
