// A Llama-style decoder layer on random weights: RMSNorm, q/k/v projections, RoPE,
// grouped-query attention over a growing KV cache, the output projection and a SwiGLU
// MLP. The prompt is prefilled with one causal `attention` call; then tokens are
// decoded one at a time, each a query of one row against the cache so far (the
// decode path). Last, the decoded rows are checked against a prefill of the whole
// sequence, which must give the same numbers.
//   npx tsc -p tsconfig.json && node dist/examples/llama-decoder.js [--small]
// In your project, import from 'subquadratic' instead of '../lib'.
import { attention, backendInfo, Tensor } from '../lib';
import { matmul, random, relDiff, rmsNorm, silu, small } from './util';

const Hq = 4, Hkv = 2, D = small ? 32 : 64;  // 2 query heads per kv head (GQA)
const dModel = Hq * D, ffn = 2 * dModel;
const prompt = small ? 48 : 256, generate = small ? 6 : 32, maxLen = prompt + generate;

// Weights [in, out], scaled so activations stay O(1).
let seed = 1;
const weight = (rows: number, cols: number) => random(rows * cols, seed++, 1 / Math.sqrt(rows));
const W = { q: weight(dModel, Hq * D), k: weight(dModel, Hkv * D), v: weight(dModel, Hkv * D), o: weight(Hq * D, dModel),
  gate: weight(dModel, ffn), up: weight(dModel, ffn), down: weight(ffn, dModel) };

// Rotary embedding (rotate-half form, base 10000) of rows [n, heads, D] at positions start..start+n-1.
function rope(x: Float32Array, n: number, heads: number, start: number): void {
  const half = D / 2;
  for (let r = 0; r < n; r++)
    for (let i = 0; i < half; i++) {
      const angle = (start + r) * 10000 ** (-(2 * i) / D), c = Math.cos(angle), s = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const o = (r * heads + h) * D, a = x[o + i], b = x[o + i + half];
        x[o + i] = a * c - b * s;
        x[o + i + half] = a * s + b * c;
      }
    }
}

// The KV cache in [B, N, H, D] layout ('bnhd'): the first `len` positions are a
// contiguous prefix, so a view of them needs no copy.
class KvCache {
  k = new Float32Array(maxLen * Hkv * D);
  v = new Float32Array(maxLen * Hkv * D);
  len = 0;
  append(k: Float32Array, v: Float32Array, n: number): [Tensor, Tensor] {
    this.k.set(k, this.len * Hkv * D);
    this.v.set(v, this.len * Hkv * D);
    this.len += n;
    const view = (a: Float32Array) => new Tensor('float32', a.subarray(0, this.len * Hkv * D), [1, this.len, Hkv, D]);
    return [view(this.k), view(this.v)];
  }
}

let attentionMs = 0;
// The layer on n new rows x [n, dModel] at positions cache.len..: returns [n, dModel].
async function layer(x: Float32Array, n: number, cache: KvCache): Promise<Float32Array> {
  const h = rmsNorm(x, n, dModel);
  const q = matmul(h, W.q, n, dModel, Hq * D), k = matmul(h, W.k, n, dModel, Hkv * D), v = matmul(h, W.v, n, dModel, Hkv * D);
  rope(q, n, Hq, cache.len);
  rope(k, n, Hkv, cache.len);
  const [kt, vt] = cache.append(k, v, n);
  const t0 = performance.now();
  // Causal with fewer queries than keys aligns them bottom-right: query row r sees the
  // cache up to its own position. One query row is the decode path.
  const a = await attention(new Tensor('float32', q, [1, n, Hq, D]), kt, vt, { causal: true, layout: 'bnhd' });
  attentionMs += performance.now() - t0;
  const x1 = matmul(a.data as Float32Array, W.o, n, Hq * D, dModel).map((o, i) => o + x[i]);
  const h2 = rmsNorm(x1, n, dModel);
  const up = matmul(h2, W.up, n, dModel, ffn);
  const g = matmul(h2, W.gate, n, dModel, ffn).map((gv, i) => silu(gv) * up[i]);
  return matmul(g, W.down, n, ffn, dModel).map((m, i) => m + x1[i]);
}

async function main() {
  const info = backendInfo();
  console.log(`llama-style layer: d_model ${dModel}, ${Hq} query / ${Hkv} kv heads of ${D}, prompt ${prompt}, ` +
    `${generate} new tokens; CPU ${info.cpu.simd}, ${info.cpu.threads} threads`);
  // The token embeddings of the whole sequence (random; a real model looks them up).
  const tokens = random(maxLen * dModel, 99);
  const row = (i: number, n = 1) => tokens.subarray(i * dModel, (i + n) * dModel);

  const cache = new KvCache();
  let t0 = performance.now();
  await layer(row(0, prompt), prompt, cache);
  const prefillMs = performance.now() - t0;
  console.log(`prefill: ${prompt} tokens in ${prefillMs.toFixed(1)} ms, ${(prompt / prefillMs * 1e3).toFixed(0)} tokens/s ` +
    `(attention ${attentionMs.toFixed(1)} ms)`);

  attentionMs = 0;
  const decoded = new Float32Array(generate * dModel);
  t0 = performance.now();
  for (let t = 0; t < generate; t++) decoded.set(await layer(row(prompt + t), 1, cache), t * dModel);
  const decodeMs = performance.now() - t0;
  console.log(`decode: ${generate} tokens in ${decodeMs.toFixed(1)} ms, ${(generate / decodeMs * 1e3).toFixed(1)} tokens/s ` +
    `(attention ${attentionMs.toFixed(1)} ms; the rest is this example's TypeScript matmuls)`);

  // The same rows from one prefill of the whole sequence.
  const full = await layer(row(0, maxLen), maxLen, new KvCache());
  const diff = relDiff(decoded, full.subarray(prompt * dModel));
  console.log(`decode matches a full prefill: max relative difference ${diff.toExponential(1)}`);
  if (!(diff < 1e-4)) process.exit(1);
}

void main();
