// The package as users install it: `npm pack` with a prebuild in prebuilds/, then an
// offline install into an empty project whose PATH holds only node, npm and sh (no
// cmake, compiler, make or python: only the prebuild can work), once with the install
// script approved and once with --ignore-scripts; then the package loads and runs an
// op. Needs a prebuild: `SUBQ_CUDA=0 npm run release:prebuild` (a CPU-only one is
// enough). Without one it is skipped here; .ci/run makes one and sets SUBQ_PACK_TEST=1,
// under which a missing prebuild fails.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { root } from './child';

const platformDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const hasPrebuild = fs.existsSync(platformDir) && fs.readdirSync(platformDir).some((f) => f.endsWith('.node'));
const required = process.env.SUBQ_PACK_TEST === '1';
const skip = !hasPrebuild && !required ? `no prebuild in ${path.relative(root, platformDir)}/ (make one: SUBQ_CUDA=0 npm run release:prebuild)` : false;

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
};

t.test('the packed tarball installs offline without build tools and runs', { skip }, async (t) => {
  t.ok(hasPrebuild, `a prebuild in ${platformDir}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'subq-pack-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

  const pack = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], root, process.env);
  t.ok(pack.ok, `npm pack: ${pack.out.slice(-800)}`);
  const tgzName = fs.readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tgzName) return t.fail('npm pack wrote no tarball');
  const tgz = path.join(work, tgzName);
  const list = run('tar', ['-tzf', tgz], work, process.env).out.split('\n');
  t.ok(list.some((f) => f.startsWith(`package/prebuilds/${process.platform}-${process.arch}/`) && f.endsWith('.node')), 'the tarball holds the prebuild');
  t.ok(list.includes('package/dist/lib/index.js'), 'the tarball holds the compiled TypeScript');

  // PATH: node, npm and sh only.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  const npmCli = fs.realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  const env: NodeJS.ProcessEnv = { PATH: bin, HOME: os.homedir() };
  if (process.env.npm_config_cache) env.npm_config_cache = process.env.npm_config_cache;

  // The project's lockfile pins the package's dependencies as this checkout's lockfile
  // does, so `npm ci --offline` takes them from the npm cache without registry metadata.
  const ownLock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; dependencies: object };
  const deps = Object.fromEntries(Object.entries(ownLock.packages).filter(([k, v]) => k.startsWith('node_modules/') && !v.dev && !v.devOptional));
  const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;

  for (const mode of ['install script approved', '--ignore-scripts']) {
    await t.test(mode, async (t) => {
      const app = fs.mkdtempSync(path.join(work, 'app-'));
      fs.copyFileSync(tgz, path.join(app, tgzName));
      const spec = `file:${tgzName}`;
      fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
        name: 'app', version: '1.0.0', private: true, dependencies: { subquadratic: spec },
        ...(mode === '--ignore-scripts' ? {} : { allowScripts: { subquadratic: true } }),
      }));
      fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({
        name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true,
        packages: {
          '': { name: 'app', version: '1.0.0', dependencies: { subquadratic: spec } },
          'node_modules/subquadratic': { version: manifest.version, resolved: spec, integrity, hasInstallScript: true, dependencies: manifest.dependencies },
          ...deps,
        },
      }));
      const args = ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', ...(mode === '--ignore-scripts' ? ['--ignore-scripts'] : [])];
      const inst = run(npmCli, args, app, env);
      t.ok(inst.ok, `npm ${args.join(' ')}: ${inst.out.slice(-1500)}`);
      if (mode !== '--ignore-scripts') t.match(inst.out, /subquadratic: using a prebuilt binary/, 'the install script chose the prebuild');
      t.notOk(fs.existsSync(path.join(app, 'node_modules', 'subquadratic', 'build')), 'nothing was built');
      const use = run(path.join(bin, 'node'), ['-e', `
        const s = require('subquadratic');
        const q = s.Tensor.fromFloat32(Float32Array.from({ length: 2 * 3 * 16 }, (_, i) => Math.sin(i)), [1, 2, 3, 16]);
        const o = s.attentionSync(q, q, q, { causal: true });
        console.log('simd', s.backendInfo().cpu.simd, 'first row equals v', o.data.slice(0, 16).every((x, i) => Math.abs(x - q.data[i]) < 1e-6));
      `], app, env);
      t.match(use.out, /simd (avx512|avx2|scalar) first row equals v true/, use.out.slice(-1500));
    });
  }
});
