// subquadratic: fast attention and state-space kernels for Node.js (CPU and CUDA).
export { Tensor, fromNative } from './tensor';
export type { DType, FloatDType, TypedArray, TensorLike, OrtLikeTensor, Device } from './tensor';
export { toHalfBits, fromHalfBits } from './half';
export { NativeLoadError, ErrorCodes } from './errors';
export type { ErrorCode } from './errors';
export { backendInfo, setNumThreads, setSimdLevel, setVectorWidth, sync, syncSync } from './backend';
export type { BackendInfo } from './backend';
export type { SimdLevel } from './native';
export type { OpResult, OutOption } from './ops/common';
export { attention, attentionSync } from './ops/attention';
export type { AttentionOptions, AttentionResult, AttentionWithLse } from './ops/attention';
export { mergeAttentionStates, mergeAttentionStatesSync } from './ops/merge';
export type { MergeOptions, MergedState } from './ops/merge';
export * from './ops/ssm';
export { blockSparseAttention, blockSparseAttentionSync, blockMaskToIndices, indicesToBlockMask, xattention } from './ops/sparse';
export type { BlockSparseOptions, BlockIndices, BlockMaskLike, HeadMode, XAttentionOptions, XAttentionResult } from './ops/sparse';
export { xattentionScores, xattentionScoresSync, xattentionMask, streamingMask } from './ops/xattention';
export type { XAttentionScoresOptions, XAttentionMaskOptions, BlockMaskResult, StreamingMaskOptions } from './ops/xattention';
