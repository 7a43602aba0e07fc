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
