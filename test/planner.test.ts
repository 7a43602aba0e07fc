// The planner: choices whose best value differs by machine, measured once per process
// unless SUBQ_PLAN (or SUBQ_VECTOR_BITS) or setPlan() sets them. Every candidate must give
// the same bits; the env and setter must be honoured and reported by backendInfo().
import t from 'tap';
import { backendInfo, causalConv1dSync, setPlan, setSimdLevel, setVectorWidth } from '../lib';
import { describe, runChild } from './child';
import { bitsEqual } from './helpers';
import { checkConv, convInputs, type ConvCase } from './ssm-check';

const start = backendInfo().cpu;
const levels = start.simd === 'avx512' ? (['avx512', 'avx2', 'scalar'] as const) : start.simd === 'avx2' ? (['avx2', 'scalar'] as const) : (['scalar'] as const);

t.test('backendInfo lists every choice with its candidates and source', async (t) => {
  const plan = backendInfo().cpu.plan;
  t.same(Object.keys(plan).sort(), ['conv1d_stream', 'conv1d_stream_silu', 'vector_bits']);
  t.same(plan.vector_bits.candidates, ['256', '512']);
  t.same(plan.conv1d_stream.candidates, ['off', 'on']);
  t.same(plan.conv1d_stream_silu.candidates, ['off', 'on']);
  for (const [name, c] of Object.entries(plan)) {
    t.ok(['measured', 'env', 'set', 'default', 'pending'].includes(c.source), `${name}: source ${c.source}`);
    if (c.source === 'pending') t.equal(c.value, null, `${name}: no value while pending`);
    else t.ok(c.candidates.includes(c.value as string), `${name}: value ${c.value} is a candidate`);
  }
  // On AVX-512, vectorBits is read through the planner (elsewhere it is not needed).
  if (start.simd === 'avx512') t.equal(String(start.vectorBits), plan.vector_bits.value, 'vectorBits is the choice in effect');
});

t.test('setPlan forces a candidate, reports it as set, and auto measures', async (t) => {
  t.teardown(() => void setPlan('conv1d_stream', 'auto'));
  t.equal(setPlan('conv1d_stream', 'on'), 'on');
  t.same(backendInfo().cpu.plan.conv1d_stream, { value: 'on', source: 'set', candidates: ['off', 'on'] });
  t.equal(setPlan('conv1d_stream', 'off'), 'off');
  t.equal(backendInfo().cpu.plan.conv1d_stream.value, 'off');
  const measured = setPlan('conv1d_stream', 'auto');  // measures (once per process) if not yet
  t.ok(['off', 'on'].includes(measured));
  t.same(backendInfo().cpu.plan.conv1d_stream, { value: measured, source: 'measured', candidates: ['off', 'on'] });
});

t.test('setVectorWidth is the vector_bits choice', async (t) => {
  t.teardown(() => void setVectorWidth('auto'));
  setVectorWidth(256);
  t.same(backendInfo().cpu.plan.vector_bits, { value: '256', source: 'set', candidates: ['256', '512'] });
  t.equal(setPlan('vector_bits', '512'), '512');
  if (start.simd === 'avx512') t.equal(backendInfo().cpu.vectorBits, 512);
  setVectorWidth('auto');
  if (start.simd === 'avx512') t.equal(backendInfo().cpu.plan.vector_bits.source, 'measured');
  else t.not(backendInfo().cpu.plan.vector_bits.source, 'set');
});

t.test('setPlan rejects unknown names and values', async (t) => {
  t.throws(() => setPlan('conv1d_streaming', 'on'), { name: 'RangeError', message: /^name must be one of .*conv1d_stream.*, got 'conv1d_streaming'/ });
  t.throws(() => setPlan('conv1d_stream', 'yes'), { name: 'RangeError', message: /^value must be 'off', 'on', or 'auto' for conv1d_stream, got 'yes'/ });
  t.throws(() => setPlan(3 as never, 'on'), { name: 'TypeError', message: /^name must be a string/ });
  t.throws(() => setPlan('vector_bits', 256 as never), { name: 'TypeError', message: /^value must be '256', '512', or 'auto'/ });
  t.equal(backendInfo().cpu.plan.conv1d_stream.source === 'set', false, 'a rejected value changes nothing');
});

// fp32 outputs of 8 MB and more are where the stream choices apply; odd lengths put rows
// at every offset within a cache line.
const large: ConvCase[] = [
  { b: 1, d: 67, L: 31337, w: 4, bias: true, init: true },
  { b: 2, d: 33, L: 31339, w: 3, silu: true, init: true, seed: 2 },
  { b: 1, d: 67, L: 31337, w: 7, bias: true, silu: true, dtype: 'bfloat16', seed: 3 },
  { d: 33, L: 70001, w: 4, cuSeqlens: [0, 3, 40003, 70001], bias: true, seed: 4 },
];

t.test('every conv1d stream candidate gives the same bits, on every SIMD level', async (t) => {
  t.teardown(() => {
    setSimdLevel(start.simd);
    setPlan('conv1d_stream', 'auto');
    setPlan('conv1d_stream_silu', 'auto');
  });
  for (const level of levels) {
    setSimdLevel(level);
    for (const c of large) {
      const inp = convInputs(c);
      const { x, weight, options } = inp.tensors;
      const outs = [];
      for (const v of ['off', 'on']) {
        setPlan('conv1d_stream', v);
        setPlan('conv1d_stream_silu', v);
        outs.push(causalConv1dSync(x, weight, options));
      }
      t.ok(bitsEqual(outs[0].out, outs[1].out), `${level} d${c.d} L${c.L} w${c.w}${c.silu ? ' silu' : ''}: out`);
      t.ok(bitsEqual(outs[0].finalStates, outs[1].finalStates), `${level}: finalStates`);
    }
  }
  // And both against the fp64 reference.
  for (const v of ['off', 'on']) {
    setPlan('conv1d_stream', v);
    setPlan('conv1d_stream_silu', v);
    await checkConv(t, large[0]);
    await checkConv(t, large[1]);
  }
});

t.test('a large conv1d measures its choice on first use', async (t) => {
  const r = runChild(`
    const before = s.backendInfo().cpu.plan;
    const d = 64, L = 40000;
    const x = s.Tensor.fromFloat32(new Float32Array(d * L).fill(0.5), [1, d, L]);
    const w = s.Tensor.fromFloat32(new Float32Array(d * 4).fill(0.25), [d, 4]);
    s.causalConv1dSync(x, w);
    const after = s.backendInfo().cpu.plan;
    console.log(JSON.stringify({ before: before.conv1d_stream, after: after.conv1d_stream, silu: after.conv1d_stream_silu }));
  `);
  t.equal(r.status, 0, describe(r));
  const o = JSON.parse(r.stdout);
  t.same(o.before, { value: null, source: 'pending', candidates: ['off', 'on'] });
  t.equal(o.after.source, 'measured');
  t.ok(['off', 'on'].includes(o.after.value));
  t.equal(o.silu.source, 'pending', 'the silu choice waits for a silu call');
});

t.test('concurrent first uses measure once and agree', async (t) => {
  // Four async calls on the libuv pool reach the pending choices together.
  const r = runChild(`
    const d = 64, L = 40000;
    const x = s.Tensor.fromFloat32(new Float32Array(d * L).map((_, i) => (i % 19) / 8 - 1), [1, d, L]);
    const w = s.Tensor.fromFloat32(new Float32Array(d * 4).fill(0.25), [d, 4]);
    const opts = [{}, { activation: 'silu' }, {}, { activation: 'silu' }];
    Promise.all(opts.map((o) => s.causalConv1d(x, w, o))).then((outs) => {
      const same = (a, b) => Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer));
      const plan = s.backendInfo().cpu.plan;
      console.log(JSON.stringify({ same: same(outs[0], outs[2]) && same(outs[1], outs[3]),
        sync: same(outs[0], s.causalConv1dSync(x, w)), sources: [plan.conv1d_stream.source, plan.conv1d_stream_silu.source] }));
    });
  `);
  t.equal(r.status, 0, describe(r));
  const o = JSON.parse(r.stdout);
  t.ok(o.same, 'the same inputs give the same bits');
  t.ok(o.sync, 'and the same as a later call');
  t.same(o.sources, ['measured', 'measured']);
});

const report = `console.log(JSON.stringify({ plan: s.backendInfo().cpu.plan, bits: s.backendInfo().cpu.vectorBits, simd: s.backendInfo().cpu.simd }))`;

t.test('SUBQ_PLAN sets choices at start-up, reported as env', async (t) => {
  const r = runChild(report, { env: { SUBQ_PLAN: 'conv1d_stream=off,conv1d_stream_silu=on,vector_bits=256' } });
  t.equal(r.status, 0, describe(r));
  t.equal(r.stderr.includes('ignored'), false, 'no warning');
  const { plan, bits, simd } = JSON.parse(r.stdout);
  t.same(plan.conv1d_stream, { value: 'off', source: 'env', candidates: ['off', 'on'] });
  t.same(plan.conv1d_stream_silu, { value: 'on', source: 'env', candidates: ['off', 'on'] });
  t.same(plan.vector_bits, { value: '256', source: 'env', candidates: ['256', '512'] });
  if (simd === 'avx512') t.equal(bits, 256);
  // auto: measured as without the entry; SUBQ_VECTOR_BITS still works, SUBQ_PLAN wins over it.
  const a = runChild(report, { env: { SUBQ_PLAN: 'conv1d_stream=auto', SUBQ_VECTOR_BITS: '256' } });
  t.equal(a.status, 0, describe(a));
  t.equal(a.stderr.includes('ignored'), false, 'no warning');
  const ap = JSON.parse(a.stdout).plan;
  t.equal(ap.conv1d_stream.source, 'pending');
  t.same(ap.vector_bits, { value: '256', source: 'env', candidates: ['256', '512'] });
  const both = runChild(report, { env: { SUBQ_PLAN: 'vector_bits=512', SUBQ_VECTOR_BITS: '256' } });
  t.same(JSON.parse(both.stdout).plan.vector_bits, { value: '512', source: 'env', candidates: ['256', '512'] });
});

t.test('bad SUBQ_PLAN entries warn once each and fall back to measuring', async (t) => {
  const r = runChild(`
    const d = 64, L = 40000;
    const x = s.Tensor.fromFloat32(new Float32Array(d * L).fill(0.5), [1, d, L]);
    const w = s.Tensor.fromFloat32(new Float32Array(d * 4).fill(0.25), [d, 4]);
    s.causalConv1dSync(x, w);
    ${report}
  `, { env: { SUBQ_PLAN: 'conv1d_stream=maybe,bogus=1,vector_bits,vector_bits=1024', SUBQ_VECTOR_BITS: 'auto' } });
  t.equal(r.status, 0, describe(r));
  t.match(r.stderr, /subquadratic: SUBQ_PLAN='conv1d_stream=maybe' is ignored: expected off, on or auto for conv1d_stream; measuring/);
  t.match(r.stderr, /subquadratic: SUBQ_PLAN='bogus=1' is ignored: expected name=value with a name among /);
  t.match(r.stderr, /subquadratic: SUBQ_PLAN='vector_bits' is ignored: expected name=value/);
  t.match(r.stderr, /subquadratic: SUBQ_PLAN='vector_bits=1024' is ignored: expected 256, 512 or auto for vector_bits; measuring/);
  t.equal(r.stderr.match(/SUBQ_PLAN='conv1d_stream=maybe'/g)?.length, 1, 'once');
  const { plan } = JSON.parse(r.stdout);
  t.equal(plan.conv1d_stream.source, 'measured', 'measured instead');
  t.not(plan.vector_bits.source, 'env', 'vector_bits measured instead');
});
