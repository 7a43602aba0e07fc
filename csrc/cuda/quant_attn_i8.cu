// Quantized attention kernels on the m16n8k32 .s8 mma: per padded head dim, P.V rounding
// (fp16, bf16, fp32 as a bf16 split, int8) and dense or block-sparse.
#include "quant_attn.cuh"

namespace subq::cuda {
template void launch_quant_attn<64, 8, DType::F16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 8, DType::F16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 8, DType::BF16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 8, DType::BF16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 8, DType::F32, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 8, DType::F32, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::F16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::F16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::BF16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::BF16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::F32, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::F32, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::F16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::F16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::BF16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::BF16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::F32, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::F32, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 8, DType::I8, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 8, DType::I8, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::I8, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 8, DType::I8, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::I8, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 8, DType::I8, true>(const QuantFwdParams&, dim3, CUstream_st*);
}  // namespace subq::cuda
