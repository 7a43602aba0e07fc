// subquadratic: fast attention and state-space kernels for Node.js (CPU and CUDA).
export { Tensor, fromNative } from './tensor';
export type { DType, FloatDType, TypedArray, TensorLike, OrtLikeTensor } from './tensor';
export { toHalfBits, fromHalfBits } from './half';
export { NativeLoadError } from './errors';
export { backendInfo, setNumThreads, setSimdLevel } from './backend';
export type { BackendInfo } from './backend';
export { attention, attentionSync } from './ops/attention';
export type { AttentionOptions, AttentionWithLse } from './ops/attention';
