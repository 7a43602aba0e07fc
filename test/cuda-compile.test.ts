// Every CUDA source compiles for sm_80 and sm_90 without register spills, when nvcc
// is installed (no GPU needed).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backendInfo } from '../lib';

const root = path.join(__dirname, '..');
const nvcc = spawnSync('nvcc', ['--version'], { encoding: 'utf8' }).status === 0;

if (!nvcc) {
  t.test('without nvcc the addon has no CUDA backend', async (t) => {
    t.equal(backendInfo().cuda.compiled, false, 'cuda.compiled is false');
  });
} else {
  const dir = path.join(root, 'csrc', 'cuda');
  const sources = fs.readdirSync(dir).filter((f) => f.endsWith('.cu'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'subq-nvcc-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  t.test('nvcc sm_80 + sm_90', async (t) => {
    t.ok(sources.length > 0, 'there are CUDA sources');
    for (const f of sources) {
      const args = ['-std=c++17', '-O3', '--expt-relaxed-constexpr', '-Xptxas=-warn-spills',
        '-gencode', 'arch=compute_80,code=sm_80', '-gencode', 'arch=compute_90,code=sm_90',
        '-c', path.join(dir, f), '-o', path.join(tmp, `${f}.o`)];
      const r = spawnSync('nvcc', args, { encoding: 'utf8' });
      const log = `${r.stdout}${r.stderr}`;
      t.ok(r.status === 0 && fs.existsSync(path.join(tmp, `${f}.o`)), `${f} compiles${r.status === 0 ? '' : `: ${log}`}`);
      t.notMatch(log, /spill/, `${f}: no register spills`);
    }
  });
}
