// When nvcc exists, compiles every csrc/cuda/*.cu for sm_80 and sm_90 and checks
// ptxas's report (scripts/cuda-compile-check.js). The emulated native tests are in
// test/native-*.test.ts, one family per file.
import t from 'tap';
import { backendInfo } from '../lib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const compileCheck = require('../scripts/cuda-compile-check.js');

t.test('CUDA compile check (sm_80, sm_90, ptxas -v)', async (t) => {
  if (!compileCheck.findNvcc()) {
    t.comment('nvcc not found: the CUDA compile check did not run on this machine');
    t.equal(backendInfo().cuda.compiled, false, 'and the addon was built without the CUDA backend');
    return;
  }
  const res = await compileCheck.check({ archs: [80, 90], jobs: 2 });
  for (const f of res.files) t.equal(f.code, 0, `${f.file} compiles for sm_80 and sm_90`);
  t.ok(res.kernels.some((k: { name: string }) => /attn_fwd_tc/.test(k.name)), 'ptxas reported the attention kernels');
  t.ok(res.kernels.some((k: { name: string }) => /selective_scan/.test(k.name)), 'ptxas reported the selective scan kernels');
  t.same(res.failures, [], 'no errors, no spills in the main attention kernels, shared memory within limits');
  t.comment(compileCheck.table(res));
});
