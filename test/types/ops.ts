// Compiled (never run) by test/types.test.ts: every line must type-check, and every line
// after a @ts-expect-error must not. Each result is checked against both the type it
// must have and the one it must not, so a result typed `any` fails too.
import {
  attention,
  attentionSync,
  blockSparseAttention,
  blockSparseAttentionSync,
  causalConv1d,
  causalConv1dSync,
  causalConv1dUpdateSync,
  mergeAttentionStatesSync,
  selectiveScan,
  selectiveScanSync,
  selectiveStateUpdateSync,
  setSimdLevel,
  Tensor,
  xattentionScores,
  xattentionScoresSync,
  quantize,
  quantizeSync,
  dequantizeSync,
  quantizedAttention,
  quantizedAttentionSync,
  type QuantizedTensor,
  type AttentionOptions,
  type AttentionWithLse,
  type BlockSparseOptions,
  type CausalConv1dOptions,
  type CausalConv1dWithState,
  type MergedState,
  type SelectiveScanOptions,
  type SelectiveScanWithState,
  type SimdLevel,
} from '../../lib';
import { native, type NativeTensor } from '../../lib/native';

declare function expectType<T>(value: T): void;

declare const q: Tensor;
declare const flag: boolean;
declare const attnOptions: AttentionOptions;
const plain = { data: new Float32Array(4), shape: [4] };

// attention: literal true gives the pair, false or absent the output, a boolean either.
expectType<AttentionWithLse>(attentionSync(q, q, q, { returnLse: true }));
// @ts-expect-error the pair is not a Tensor
expectType<Tensor>(attentionSync(q, q, q, { returnLse: true, causal: true }));
expectType<Tensor>(attentionSync(q, q, q));
expectType<Tensor>(attentionSync(q, q, q, undefined));
expectType<Tensor>(attentionSync(q, q, q, { causal: true, window: [8, 0] }));
expectType<Tensor>(attentionSync(q, q, q, { returnLse: false }));
// @ts-expect-error no lse without returnLse
expectType<AttentionWithLse>(attentionSync(q, q, q, { causal: true }));
expectType<Tensor | AttentionWithLse>(attentionSync(q, q, q, { returnLse: flag }));
// @ts-expect-error a run-time boolean may give the pair
expectType<Tensor>(attentionSync(q, q, q, { returnLse: flag }));
// @ts-expect-error ... or the output alone
expectType<AttentionWithLse>(attentionSync(q, q, q, { returnLse: flag }));
expectType<Tensor | AttentionWithLse>(attentionSync(q, q, q, attnOptions));
// @ts-expect-error options held in a variable of the options type may ask for the pair
expectType<Tensor>(attentionSync(q, q, q, attnOptions));
expectType<Promise<AttentionWithLse>>(attention(q, q, q, { returnLse: true }));
expectType<Promise<Tensor>>(attention(q, q, q));
// @ts-expect-error async results follow the same rule
expectType<Promise<Tensor>>(attention(q, q, q, { returnLse: flag }));
// @ts-expect-error unknown options are rejected
attentionSync(q, q, q, { casual: true });

// blockSparseAttention: the same rule.
declare const sparseOptions: BlockSparseOptions;
expectType<AttentionWithLse>(blockSparseAttentionSync(q, q, q, null, { headModes: ['dense'], returnLse: true }));
expectType<Tensor>(blockSparseAttentionSync(q, q, q, q, { blockSize: 64 }));
// @ts-expect-error a variable of the options type may ask for the pair
expectType<Tensor>(blockSparseAttentionSync(q, q, q, q, sparseOptions));
expectType<Promise<Tensor | AttentionWithLse>>(blockSparseAttention(q, q, q, q, { returnLse: flag }));
// @ts-expect-error a run-time boolean may give the output alone
expectType<Promise<AttentionWithLse>>(blockSparseAttention(q, q, q, q, { returnLse: flag }));
// @ts-expect-error block sizes are 64 or 128
blockSparseAttentionSync(q, q, q, q, { blockSize: 32 });

// selectiveScan and causalConv1d: returnLastState and returnFinalStates.
declare const scanOptions: SelectiveScanOptions;
expectType<SelectiveScanWithState>(selectiveScanSync(q, q, q, q, q, { returnLastState: true }));
expectType<Tensor>(selectiveScanSync(q, q, q, q, q, { deltaSoftplus: true }));
// @ts-expect-error no state without returnLastState
expectType<SelectiveScanWithState>(selectiveScanSync(q, q, q, q, q));
expectType<Tensor | SelectiveScanWithState>(selectiveScanSync(q, q, q, q, q, scanOptions));
// @ts-expect-error a run-time boolean may give the pair
expectType<Tensor>(selectiveScanSync(q, q, q, q, q, { returnLastState: flag }));
expectType<Promise<SelectiveScanWithState>>(selectiveScan(q, q, q, q, q, { returnLastState: true }));
declare const convOptions: CausalConv1dOptions;
expectType<CausalConv1dWithState>(causalConv1dSync(q, q, { returnFinalStates: true }));
expectType<Tensor>(causalConv1dSync(q, q, { activation: 'silu', returnFinalStates: false }));
// @ts-expect-error a variable of the options type may ask for the states
expectType<Tensor>(causalConv1dSync(q, q, convOptions));
// @ts-expect-error a run-time boolean may give the output alone
expectType<Promise<CausalConv1dWithState>>(causalConv1d(q, q, { returnFinalStates: flag }));

// Ops with one result, and `out` (any tensor-like) on every op.
expectType<Tensor>(selectiveStateUpdateSync(q, q, q, q, q, q, { out: plain }));
expectType<Tensor>(causalConv1dUpdateSync(q, q, q, { out: q }));
expectType<MergedState>(mergeAttentionStatesSync(q, q, q, q, { out: q }));
expectType<Tensor>(attentionSync(q, q, q, { out: plain }));
expectType<Promise<Tensor>>(xattentionScores(q, q, { stride: 8, out: q }));
// @ts-expect-error out is a tensor
attentionSync(q, q, q, { out: new Float32Array(4) });
// @ts-expect-error out is a tensor
xattentionScoresSync(q, q, { out: new Float32Array(4) });

// The backend controls and Tensor.to take and return their unions.
expectType<SimdLevel>(setSimdLevel('avx2'));
expectType<'avx512' | 'avx2' | 'scalar'>(setSimdLevel('scalar'));
// @ts-expect-error not a SIMD level
setSimdLevel('sse4');
expectType<Promise<Tensor>>(q.to('cuda:1'));
expectType<Promise<Tensor>>(q.to('cuda'));
expectType<Promise<Tensor>>(q.to('cpu'));
// @ts-expect-error not a device
void q.to('gpu');

// The addon's surface: each function typed, no lookups by name.
expectType<SimdLevel>(native().setSimdLevel('avx512'));
// @ts-expect-error no such export
native().noSuchFunction();
// @ts-expect-error the addon takes Tensors (lib/ops converts first)
native().attentionSync(plain, q, q);
// @ts-expect-error options after conversion hold Tensors
native().causalConv1dSync(q, q, { bias: plain });
expectType<Promise<Tensor | NativeTensor>>(native().xattentionScores(q, q, { out: q }));

// Quantized attention: k and v are tensors or quantized tensors; returnLse as attention's.
declare const kq: QuantizedTensor;
expectType<QuantizedTensor>(quantizeSync(q, { bits: 4, granularity: 'token', smooth: true }));
expectType<Promise<QuantizedTensor>>(quantize(q));
expectType<Tensor>(dequantizeSync(kq));
expectType<AttentionWithLse>(quantizedAttentionSync(q, kq, q, { returnLse: true, qkBits: 4 }));
expectType<Tensor>(quantizedAttentionSync(q, q, kq, { smoothQ: true, pv: 'bf16' }));
expectType<Promise<Tensor>>(quantizedAttention(q, kq, kq));
// @ts-expect-error bits are 8 or 4
quantizeSync(q, { bits: 2 });
// @ts-expect-error pv is 'bf16', 'fp16' or 'fp32'
quantizedAttentionSync(q, q, q, { pv: 'fp8' });
// @ts-expect-error a quantized q is not accepted
quantizedAttentionSync(kq, q, q);
