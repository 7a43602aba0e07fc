// Quantized attention kernels on the m16n8k64 .s4 mma: per padded head dim, P.V rounding
// (fp16, bf16, fp32 as a bf16 split) and dense or block-sparse.
#include "quant_attn.cuh"

namespace subq::cuda {
template void launch_quant_attn<64, 4, Elem::F16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 4, Elem::F16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 4, Elem::BF16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 4, Elem::BF16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 4, Elem::F32, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<64, 4, Elem::F32, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 4, Elem::F16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 4, Elem::F16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 4, Elem::BF16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 4, Elem::BF16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 4, Elem::F32, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<128, 4, Elem::F32, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 4, Elem::F16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 4, Elem::F16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 4, Elem::BF16, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 4, Elem::BF16, true>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 4, Elem::F32, false>(const QuantFwdParams&, dim3, CUstream_st*);
template void launch_quant_attn<256, 4, Elem::F32, true>(const QuantFwdParams&, dim3, CUstream_st*);
}  // namespace subq::cuda
