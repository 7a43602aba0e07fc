// A Mamba (S6) block on random weights, serving several requests with continuous
// batching. Each request's prompt runs through in_proj (a plain matmul here),
// causalConv1d and selectiveScan, which also return the conv and SSM states; these go
// into a pool of state slots. Then every decode step runs all active requests as one
// batch through causalConv1dUpdate and selectiveStateUpdate, each row naming its slot
// in `stateIndices`; requests finish and new ones join between steps. Last, each
// request's decoded rows are checked against one pass over its whole sequence.
//   npx tsc -p tsconfig.json && node dist/examples/mamba-block.js [--small]
// In your project, import from 'subquadratic' instead of '../lib'.
import { backendInfo, causalConv1d, causalConv1dUpdate, selectiveScan, selectiveStateUpdate, Tensor } from '../lib';
import { matmul, random, relDiff, small } from './util';

const dModel = small ? 32 : 256, d = 2 * dModel, N = 16, w = 4, dtRank = Math.ceil(dModel / 16);
const slots = 4;

let seed = 1;
const weight = (rows: number, cols: number) => random(rows * cols, seed++, 1 / Math.sqrt(rows));
const f32 = (a: Float32Array, shape: number[]) => new Tensor('float32', a, shape);
const W = {
  inProj: weight(dModel, 2 * d), xProj: weight(d, dtRank + 2 * N), dtProj: weight(dtRank, d), outProj: weight(d, dModel),
  conv: f32(random(d * w, seed++, 0.5), [d, w]), convBias: f32(random(d, seed++, 0.1), [d]),
  // S4D-real initialisation: A[c, n] = -(n + 1); dt around 0.01..0.1 after the softplus.
  A: f32(Float32Array.from({ length: d * N }, (_, i) => -((i % N) + 1)), [d, N]),
  D: f32(new Float32Array(d).fill(1), [d]),
  dtBias: f32(Float32Array.from(random(d, seed++), (r) => Math.log(Math.expm1(0.01 + 0.045 * (r + 1)))), [d]),
};

// [rows, cols] <-> [cols, rows]: projections work on tokens as rows, the kernels on channels.
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) y[c * rows + r] = x[r * cols + c];
  return y;
}
const columns = (x: Float32Array, rows: number, cols: number, from: number, n: number) => {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) y.set(x.subarray(r * cols + from, r * cols + from + n), r * n);
  return y;
};

// The pools of per-request state: conv [slots, d, w-1], SSM [slots, d, N].
const convPool = Tensor.zeros('float32', [slots, d, w - 1]);
const ssmPool = Tensor.zeros('float32', [slots, d, N]);

// A whole sequence x [L, dModel] through the block; returns [L, dModel] and the states after it.
async function prefill(x: Float32Array, L: number) {
  const xz = matmul(x, W.inProj, L, dModel, 2 * d);
  const xc = f32(transpose(columns(xz, L, 2 * d, 0, d), L, d), [1, d, L]);
  const z = f32(transpose(columns(xz, L, 2 * d, d, d), L, d), [1, d, L]);
  const conv = await causalConv1d(xc, W.conv, { bias: W.convBias, activation: 'silu', returnFinalStates: true });
  const uRows = transpose(conv.out.data as Float32Array, d, L);
  const xdbl = matmul(uRows, W.xProj, L, d, dtRank + 2 * N);
  const delta = transpose(matmul(columns(xdbl, L, dtRank + 2 * N, 0, dtRank), W.dtProj, L, dtRank, d), L, d);
  const B = transpose(columns(xdbl, L, dtRank + 2 * N, dtRank, N), L, N), C = transpose(columns(xdbl, L, dtRank + 2 * N, dtRank + N, N), L, N);
  const y = await selectiveScan(conv.out, f32(delta, [1, d, L]), W.A, f32(B, [1, 1, N, L]), f32(C, [1, 1, N, L]),
    { D: W.D, z, deltaBias: W.dtBias, deltaSoftplus: true, returnLastState: true });
  const out = matmul(transpose(y.out.data as Float32Array, d, L), W.outProj, L, d, dModel);
  return { out, convState: conv.finalStates, ssmState: y.lastState };
}

// One token for each of b requests, x [b, dModel], their states in slots `idx`.
async function decodeStep(x: Float32Array, idx: Int32Array): Promise<Float32Array> {
  const b = idx.length, stateIndices = new Tensor('int32', idx, [b]);
  const xz = matmul(x, W.inProj, b, dModel, 2 * d);
  const u = await causalConv1dUpdate(f32(columns(xz, b, 2 * d, 0, d), [b, d]), convPool, W.conv,
    { bias: W.convBias, activation: 'silu', stateIndices });
  const xdbl = matmul(u.data as Float32Array, W.xProj, b, d, dtRank + 2 * N);
  const dt = matmul(columns(xdbl, b, dtRank + 2 * N, 0, dtRank), W.dtProj, b, dtRank, d);
  const y = await selectiveStateUpdate(ssmPool, u, f32(dt, [b, d]), W.A,
    f32(columns(xdbl, b, dtRank + 2 * N, dtRank, N), [b, N]), f32(columns(xdbl, b, dtRank + 2 * N, dtRank + N, N), [b, N]),
    { D: W.D, z: f32(columns(xz, b, 2 * d, d, d), [b, d]), dtBias: W.dtBias, dtSoftplus: true, stateIndices });
  return matmul(y.data as Float32Array, W.outProj, b, d, dModel);
}

interface Request {
  id: number;
  prompt: number;
  generate: number;
  arrives: number;               // the decode step before which it joins
  inputs: Float32Array;          // every token's embedding, prompt then generated (random here)
  slot?: number;
  done: number;
  decoded: Float32Array;
}

async function main() {
  const info = backendInfo();
  const scale = small ? 1 : 8;
  const specs = [[6, 5, 0], [4, 8, 0], [8, 3, 2], [5, 6, 3], [7, 4, 6]].map(([p, g, a]) => [p * scale, g * (small ? 1 : 4), a]);
  const requests: Request[] = specs.map(([prompt, generate, arrives], id) => ({
    id, prompt, generate, arrives, inputs: random((prompt + generate) * dModel, 100 + id), done: 0, decoded: new Float32Array(generate * dModel),
  }));
  console.log(`mamba block: d_model ${dModel}, d_inner ${d}, state ${N}, conv ${w}; ${requests.length} requests over ${slots} state slots; ` +
    `CPU ${info.cpu.simd}, ${info.cpu.threads} threads`);
  const free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  const active: Request[] = [];
  let prefillTokens = 0, prefillMs = 0, decodeTokens = 0, decodeMs = 0, lastBatch = '';
  for (let step = 0; requests.some((r) => r.done < r.generate); step++) {
    // Admit the requests that have arrived, while slots are free: prefill, keep the states.
    for (const r of requests.filter((r) => r.arrives <= step && r.slot === undefined && r.done === 0)) {
      if (!free.length) break;
      r.slot = free.pop()!;
      const t0 = performance.now();
      const p = await prefill(r.inputs.subarray(0, r.prompt * dModel), r.prompt);
      prefillMs += performance.now() - t0;
      prefillTokens += r.prompt;
      (convPool.data as Float32Array).set(p.convState.data as Float32Array, r.slot * d * (w - 1));
      (ssmPool.data as Float32Array).set(p.ssmState.data as Float32Array, r.slot * d * N);
      active.push(r);
    }
    // One token for every active request, as one batch.
    const x = new Float32Array(active.length * dModel);
    active.forEach((r, i) => x.set(r.inputs.subarray((r.prompt + r.done) * dModel, (r.prompt + r.done + 1) * dModel), i * dModel));
    const t0 = performance.now();
    const out = await decodeStep(x, Int32Array.from(active, (r) => r.slot!));
    decodeMs += performance.now() - t0;
    decodeTokens += active.length;
    active.forEach((r, i) => r.decoded.set(out.subarray(i * dModel, (i + 1) * dModel), r.done++ * dModel));
    const batch = active.map((r) => `r${r.id}@slot${r.slot}`).join(', ');
    if (batch !== lastBatch) console.log(`step ${step}: batch [${batch}]`);
    lastBatch = batch;
    // Finished requests leave and free their slot.
    for (const r of active.filter((r) => r.done === r.generate)) {
      active.splice(active.indexOf(r), 1);
      free.push(r.slot!);
    }
  }
  console.log(`prefill: ${prefillTokens} tokens, ${(prefillTokens / prefillMs * 1e3).toFixed(0)} tokens/s; ` +
    `decode: ${decodeTokens} tokens, ${(decodeTokens / decodeMs * 1e3).toFixed(0)} tokens/s (with this example's TypeScript projections)`);

  let worst = 0;
  for (const r of requests) {
    const L = r.prompt + r.generate;
    const full = await prefill(r.inputs, L);
    worst = Math.max(worst, relDiff(r.decoded, full.out.subarray(r.prompt * dModel)));
  }
  console.log(`decode matches a pass over each whole sequence: max relative difference ${worst.toExponential(1)}`);
  if (!(worst < 1e-4)) process.exit(1);
}

void main();
