// State-space ops: selective scan (fp32, varying B/C, softplus; b in {1, 8}, d=1536,
// N=16, L in {2048, 16384}; N=64 at b=1, L=2048; with D, z and deltaBias at b=1, with
// buffers reused and as a default call), the decode update at b=64, causal conv1d at d=3072,
// L=16384, w=4.
// Scan work is counted as 4 FLOPs per state update (its two multiply-adds: x*dA + dt*u*B
// and y += x*C; the exp is not counted), so G state-updates/s = GFLOP/s / 4. The update
// and conv1d are memory-bound: bytes are their compulsory traffic.
import { causalConv1dSync, selectiveScan, selectiveScanSync, selectiveStateUpdateSync, Tensor } from '../../lib';
import { conv1dRef, selectiveScanRef, stateUpdateRef } from '../../reference/ssm';
import type { BenchCase, Family } from '../suite';
import { random, relError } from '../data';

const f32 = (v: Float32Array, shape: number[]) => new Tensor('float32', v, shape);

// Max |got - ref| over the rows of a few channels, relative to their scale.
const relErr = (got: (c: number) => ArrayLike<number>, ref: (c: number) => ArrayLike<number>, channels: number[]) =>
  relError(channels.map((c) => [got(c), ref(c)] as const));

// `full`: with D, z and deltaBias (a Mamba block's call); `fresh`: the default call,
// as users write it, `await selectiveScan(...)` (a new output each time, and the async
// call's copy of its inputs).
function scanCase(b: number, L: number, N = 16, o: { full?: boolean; fresh?: boolean } = {}): BenchCase {
  const d = 1536;
  const call = o.fresh ? ' default call' : '';
  return {
    family: 'ssm',
    backend: 'subquadratic',
    label: `selectiveScan fp32 b${b} d${d} N${N} L${L} softplus${o.full ? ' D z deltaBias' : ''}${call}`,
    series: `selectiveScan b${b} N${N}${o.full ? ' D z deltaBias' : ''}${call}`,
    x: L,
    async setup() {
      const u = random(b * d * L, 1), delta = random(b * d * L, 2, -4, 0), A = random(d * N, 3, -1, -0.1);
      const B = random(b * N * L, 4), C = random(b * N * L, 5);
      const D = o.full ? random(d, 6) : undefined, z = o.full ? random(b * d * L, 7) : undefined;
      const deltaBias = o.full ? random(d, 8, -1, 1) : undefined;
      let out = Tensor.zeros('float32', [b, d, L]);
      const args = [f32(u, [b, d, L]), f32(delta, [b, d, L]), f32(A, [d, N]), f32(B, [b, 1, N, L]), f32(C, [b, 1, N, L])] as const;
      const opts = {
        deltaSoftplus: true,
        ...(o.full ? { D: f32(D!, [d]), z: f32(z!, [b, d, L]), deltaBias: f32(deltaBias!, [d]) } : {}),
      };
      const channels = [0, 777, d - 1];
      // One channel of batch 0 through the fp64 recurrence.
      const ref = (c: number) =>
        selectiveScanRef({
          u: u.subarray(c * L, (c + 1) * L), delta: delta.subarray(c * L, (c + 1) * L), A: A.subarray(c * N, (c + 1) * N),
          B: B.subarray(0, N * L), C: C.subarray(0, N * L), BVarying: true, CVarying: true, softplus: true,
          D: D?.subarray(c, c + 1), z: z?.subarray(c * L, (c + 1) * L), deltaBias: deltaBias?.subarray(c, c + 1),
        }, { b: 1, d: 1, L, N, G: 1 }).out;
      return {
        run: o.fresh ? async () => (out = await selectiveScan(...args, opts)) : () => selectiveScanSync(...args, { ...opts, out }),
        work: { flops: 4 * b * d * L * N, items: b * d * L * N, unit: 'updates' },
        error: () => relErr((c) => (out.data as Float32Array).subarray(c * L, (c + 1) * L), ref, channels),
      };
    },
  };
}

function updateCase(): BenchCase {
  const b = 64, d = 1536, N = 16;
  return {
    family: 'ssm',
    backend: 'subquadratic',
    label: `selectiveStateUpdate fp32 b${b} d${d} N${N} (state in place)`,
    series: 'selectiveStateUpdate',
    async setup() {
      const s0 = random(b * d * N, 1), x = random(b * d, 2), dt = random(b * d, 3, -4, 0), A = random(d * N, 4, -1, -0.1);
      const B = random(b * N, 5), C = random(b * N, 6);
      // Sixteen state sets (100 MB) in turn, so the states come from memory, not a cache.
      const states = Array.from({ length: 16 }, () => f32(Float32Array.from(s0), [b, d, N]));
      let next = 0;
      const out = Tensor.zeros('float32', [b, d]);
      const args = [f32(x, [b, d]), f32(dt, [b, d]), f32(A, [d, N]), f32(B, [b, 1, N]), f32(C, [b, 1, N])] as const;
      return {
        run: () => selectiveStateUpdateSync(states[next++ % states.length], ...args, { dtSoftplus: true, out }),
        // State read and written, x / dt / out per channel, A once.
        work: { bytes: 2 * b * d * N * 4 + 3 * b * d * 4 + d * N * 4 },
        error: () => {
          // One step from s0 against the kernel's first step.
          const st = f32(Float32Array.from(s0), [b, d, N]);
          const o = selectiveStateUpdateSync(st, ...args, { dtSoftplus: true }).data as Float32Array;
          const r = stateUpdateRef({ state: s0, x, dt, A, B, C, softplus: true }, b, d, N, 1).out;
          return relErr(() => o, () => r, [0]);
        },
      };
    },
  };
}

function convCase(): BenchCase {
  const b = 1, d = 3072, L = 16384, w = 4;
  return {
    family: 'ssm',
    backend: 'subquadratic',
    label: `causalConv1d fp32 b${b} d${d} L${L} w${w} silu`,
    series: 'causalConv1d',
    x: L,
    async setup() {
      const x = random(b * d * L, 1), wt = random(d * w, 2), bias = random(d, 3);
      const out = Tensor.zeros('float32', [b, d, L]);
      const args = [f32(x, [b, d, L]), f32(wt, [d, w])] as const;
      const ref = (c: number) =>
        conv1dRef({ x: x.subarray(c * L, (c + 1) * L), weight: wt.subarray(c * w, (c + 1) * w), bias: bias.subarray(c, c + 1), silu: true }, 1, 1, L, w).out;
      return {
        run: () => causalConv1dSync(...args, { bias: f32(bias, [d]), activation: 'silu', out }),
        work: { bytes: 2 * b * d * L * 4 },
        error: () => relErr((c) => (out.data as Float32Array).subarray(c * L, (c + 1) * L), ref, [0, 1500, d - 1]),
      };
    },
  };
}

export const ssmFamily: Family = {
  name: 'ssm',
  cases: ({ quick }) => {
    const out: BenchCase[] = [];
    for (const b of quick ? [1] : [1, 8])
      for (const L of quick ? [2048] : [2048, 16384]) out.push(scanCase(b, L));
    out.push(scanCase(1, 2048, 64));  // the larger state of the CPU target
    // What a Mamba block's call costs, with buffers reused and as a default call.
    for (const L of quick ? [2048] : [2048, 16384])
      out.push(scanCase(1, L, 16, { full: true }), scanCase(1, L, 16, { full: true, fresh: true }));
    out.push(updateCase(), convCase());
    return out;
  },
};
