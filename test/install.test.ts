// The install script's trust decisions: a prebuilt binary must come from prebuilds/
// and report this package's version; a build/ configured for another checkout is
// not reused.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { native } from '../lib/native';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const install = require('../scripts/install.js') as {
  loads(dir: string, prebuiltOnly: boolean, want?: string): { ok: boolean; why: string };
  foreignBuild(dir: string): string | null;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const addonPath = require('node-gyp-build').path(path.join(__dirname, '..')) as string;
const version = native().version as string;

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'subq-install-'));
const place = (dir: string, rel: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.copyFileSync(addonPath, path.join(dir, rel));
};

t.test('the addon reports the package version', async (t) => {
  t.equal(version, JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version);
});

t.test('a leftover build/Release is not a prebuilt binary', async (t) => {
  const dir = tmp();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  place(dir, 'build/Release/subquadratic.node');
  const r = install.loads(dir, true, version);
  t.notOk(r.ok);
  t.match(r.why, /no prebuilt binary for this platform in prebuilds/);
  t.ok(install.loads(dir, false).ok, 'it still loads as a build');
});

t.test('a prebuilt binary must report this version', async (t) => {
  const dir = tmp();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  place(dir, `prebuilds/${process.platform}-${process.arch}/node.napi.node`);
  t.ok(install.loads(dir, true, version).ok, 'this version: used');
  const r = install.loads(dir, true, '9.9.9');
  t.notOk(r.ok, 'another version: rebuilt');
  t.match(r.why, new RegExp(`is version ${version.replace(/\./g, '\\.')}, not 9\\.9\\.9`));
});

t.test('a build/ configured for another source directory is detected', async (t) => {
  const dir = tmp(), other = tmp();
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }); fs.rmSync(other, { recursive: true, force: true }); });
  t.equal(install.foreignBuild(dir), null, 'no build/: nothing to say');
  fs.mkdirSync(path.join(dir, 'build'));
  fs.writeFileSync(path.join(dir, 'build', 'CMakeCache.txt'), `CMAKE_HOME_DIRECTORY:INTERNAL=${other}\n`);
  t.match(install.foreignBuild(dir), new RegExp(`configured for ${other.replace(/[.[\]\\]/g, '\\$&')}, not`));
  fs.writeFileSync(path.join(dir, 'build', 'CMakeCache.txt'), `CMAKE_HOME_DIRECTORY:INTERNAL=${dir}\n`);
  t.equal(install.foreignBuild(dir), null, 'its own build/: kept');
});

// The loader (lib/native.ts) in a copy of the package: build/Release first, then the
// prebuild; a binary of another version is refused with the reason, and the next one
// is tried.
t.test('the loader refuses a binary of another version and falls back to the next', async (t) => {
  const { runChild, root } = await import('./child');
  const make = (pkgVersion: string, build: 'ours' | 'garbage' | null) => {
    const dir = tmp();
    fs.cpSync(path.join(root, 'dist', 'lib'), path.join(dir, 'dist', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'subquadratic', version: pkgVersion }));
    fs.writeFileSync(path.join(dir, 'binding.gyp'), '{}');
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    place(dir, `prebuilds/${process.platform}-${process.arch}/node.napi.node`);
    if (build === 'ours') place(dir, 'build/Release/subquadratic.node');
    if (build === 'garbage') {
      fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'build', 'Release', 'subquadratic.node'), 'not a binary');
    }
    return dir;
  };
  const tryLoad = (dir: string) => runChild(`
    const p = require(${JSON.stringify(path.join(dir, 'dist', 'lib', 'index.js'))});
    try { console.log('loaded', p.backendInfo().cpu.simd); } catch (e) { console.log(e.name, e.code); console.log(e.message); }
  `, { env: { SUBQ_NATIVE_PATH: '' } });  // the search order itself, whatever binary this run was told to use
  const dirs: string[] = [];
  t.teardown(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  const other = make('9.9.9', 'ours');
  dirs.push(other);
  const r1 = tryLoad(other);
  t.match(r1.stdout, /NativeLoadError ERR_SUBQ_NATIVE_LOAD/, 'nothing of version 9.9.9: an error');
  t.match(r1.stdout, new RegExp(`build/Release: refused .*built for subquadratic ${version.replace(/\./g, '\\.')}, not 9\\.9\\.9`));
  t.match(r1.stdout, /prebuilds\/: refused .*node\.napi\.node: it was built for subquadratic/);

  const broken = make(version, 'garbage');
  dirs.push(broken);
  const r2 = tryLoad(broken);
  t.match(r2.stdout, /^loaded (avx512|avx2|scalar)/, 'an unloadable build/: the prebuild is used');
  t.match(r2.stderr, /SUBQ_NATIVE_FALLBACK.*using .*node\.napi\.node; passed over: build\/Release: /, 'with a warning that says so');
});

t.test('mismatch() names the version or N-API level that does not fit', async (t) => {
  const { mismatch } = await import('../lib/native');
  t.equal(mismatch({ version: '1.2.3', napiVersion: 9 }, '1.2.3', 9), null);
  t.match(mismatch({ version: '1.2.2', napiVersion: 9 }, '1.2.3', 9), /built for subquadratic 1\.2\.2, not 1\.2\.3/);
  t.match(mismatch({ napiVersion: 9 }, '1.2.3', 9), /built for subquadratic unknown/);
  t.match(mismatch({ version: '1.2.3', napiVersion: 10 }, '1.2.3', 9), /needs N-API 10, this Node has 9/);
});
