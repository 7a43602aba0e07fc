// The head dims the CUDA attention kernels are compiled for, listed once: the lists
// drive the kernels' instantiations (attn_fwd_{f16,bf16,f32}.cu), the launch's choice
// (attn_launch.cu) and the native tests. A call runs on the kernel of the smallest
// listed dim >= max(D, Dv); the padding columns read and write zeros. Host and device
// code, no CUDA header.
#pragma once
#include <type_traits>

namespace subq::cuda {

template <int... D>
struct DimList {
  static constexpr int dims[sizeof...(D)] = {D...};
  static constexpr int count = sizeof...(D);

  // The smallest listed dim >= d; d is at most the largest.
  static constexpr int at_least(int d) {
    for (int x : dims)
      if (x >= d) return x;
    return dims[count - 1];
  }

  // f(std::integral_constant<int, D>{}) for the listed D == d (d must be listed).
  template <class F>
  static auto with(int d, F&& f) {
    decltype(f(std::integral_constant<int, dims[0]>{})) r{};
    (void)((d == D && (r = f(std::integral_constant<int, D>{}), true)) || ...);
    return r;
  }
};

// Dense and block-sparse kernels, every element type.
using HeadDims = DimList<32, 64, 96, 128, 256>;
// Decode kernels (fp16 / bf16, at most 16 rows per block row).
using DecodeHeadDims = DimList<64, 128, 256>;

// The block-sparse tensor-core tile for a mask block of 64 or 128 rows: one 64-row tile
// at head dim 256 (registers bound it), else the mask block.
constexpr int sparse_tile(int hd, int block) { return hd == 256 ? 64 : block; }

}  // namespace subq::cuda
