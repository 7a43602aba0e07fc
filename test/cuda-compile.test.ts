// When nvcc exists, compiles every csrc/cuda/*.cu for sm_80 and sm_90 and checks
// ptxas's report (scripts/cuda-compile-check.js) and the PTX instruction budgets of the main
// loops (scripts/cuda-budget.js). The emulated native tests are in
// test/native-*.test.ts, one family per file.
import t from 'tap';
import { backendInfo } from '../lib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const compileCheck = require('../scripts/cuda-compile-check.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const budget = require('../scripts/cuda-budget.js');

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

// A loop of 3 mma.sync among 10 instructions inside an outer loop, and a scan-like loop.
const SYNTHETIC = `.visible .entry _Z4attnv(
)
{
	mov.u32 %r1, 0;
$L__BB0_1:
	ld.shared.u32 %r2, [%r1];
$L__BB0_2:
	mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f1}, {%r1}, {%r2}, {%f1};
	mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f1}, {%r1}, {%r2}, {%f1};
	mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f1}, {%r1}, {%r2}, {%f1};
	// a comment
	add.s32 %r1, %r1, 1;
	setp.lt.s32 %p1, %r1, 4;
	@%p1 bra $L__BB0_2;
	add.s32 %r3, %r3, 1;
	setp.lt.s32 %p2, %r3, 9;
	@%p2 bra.uni $L__BB0_1;
	ret;
}
.visible .entry _Z4scanv(
)
{
$L__BB1_1:
	ex2.approx.ftz.f32 %f1, %f2;
	ex2.approx.ftz.f32 %f3, %f4;
	shfl.sync.up.b32 %r1, %r2, 1, 0, -1;
	fma.rn.f32 %f5, %f1, %f3, %f5;
	@%p1 bra $L__BB1_1;
	ret;
}
.visible .entry _Z4pathv(
)
{
$L__BB2_1:
	setp.ne.s32 %p1, %r1, 0;
	@%p1 bra $L__BB2_3;
	tanh.approx.f32 %f1, %f1;
	tanh.approx.f32 %f2, %f2;
	tanh.approx.f32 %f3, %f3;
$L__BB2_3:
	mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f1}, {%r1}, {%r2}, {%f1};
	@%p2 bra $L__BB2_5;
	mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f1}, {%r1}, {%r2}, {%f1};
	add.s32 %r2, %r2, 1;
$L__BB2_5:
	add.s32 %r1, %r1, 1;
	setp.lt.s32 %p3, %r1, 4;
	@%p3 bra $L__BB2_1;
	ret;
}
.visible .entry _Z4loadv(
)
{
$L__BB3_1:
	mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%f1}, {%r1}, {%r2}, {%f1};
	setp.ne.s32 %p1, %r1, 0;
	@%p1 bra $L__BB3_3;
	cp.async.cg.shared.global [%r3], [%rd1], 16;
	cp.async.cg.shared.global [%r3+16], [%rd2], 16;
	add.s64 %rd2, %rd2, 16;
$L__BB3_3:
	add.s32 %r1, %r1, 1;
	setp.lt.s32 %p3, %r1, 4;
	@%p3 bra $L__BB3_1;
	ret;
}`;

t.test('instruction budgets: the loop analysis (any machine)', async (t) => {
  const e = budget.entries(SYNTHETIC);
  t.same(Object.keys(e), ['_Z4attnv', '_Z4scanv', '_Z4pathv', '_Z4loadv']);
  const ls = budget.loops(e._Z4attnv);
  t.same(ls.map((l: { instructions: number; mma: number }) => [l.instructions, l.mma]), [[6, 3], [10, 3]], 'inner and outer loop; comments and labels not counted');
  const m = budget.measure({ kind: 'mma' }, e._Z4attnv);
  t.equal(m.value, 10, 'the loop with the most mma (the outer one on a tie)');
  t.match(m.unit, /\(3 mma, 0 cp\.async; loop body 10\)/);
  t.equal(budget.measure({ kind: 'scan' }, e._Z4scanv).value, 5 / 2, 'per ex2');
  t.match(budget.measure({ kind: 'scan' }, e._Z4attnv), { error: /no loop/ });
  // The common path skips the optional block (3 tanh) but not the branch around an mma.
  const p = budget.measure({ kind: 'mma' }, e._Z4pathv);
  t.equal(p.value, 9, 'the path with every mma and the fewest instructions');
  t.equal(p.loop.instructions, 12, 'the whole loop body');
  t.match(p.unit, /\(2 mma, 0 cp\.async; loop body 12\)/);
  // Among paths with every mma, the one issuing the tile loads (a middle pass's prefetch).
  const l = budget.measure({ kind: 'mma' }, e._Z4loadv);
  t.equal(l.value, 9, 'the path through the cp.async block, not around it');
  t.match(l.unit, /\(1 mma, 2 cp\.async; loop body 9\)/);
});

t.test('instruction budgets of the main CUDA loops (PTX, sm_90)', async (t) => {
  if (!compileCheck.findNvcc()) {
    t.comment('nvcc not found: the budget check did not run on this machine');
    return;
  }
  const res = await budget.check();
  t.equal(res.rows.length, budget.KERNELS.length, 'every kernel measured');
  t.same(res.failures, [], 'no loop over its recorded budget (scripts/cuda-budget.json)');
  const tight = await budget.check({ budgets: Object.fromEntries(res.rows.map((r: { name: string; value: number }) => [r.name, { budget: r.value / 1.1 }])) });
  t.equal(tight.failures.length, res.rows.length, 'a loop 10% over its budget fails');
  t.comment(budget.report(res));
});
