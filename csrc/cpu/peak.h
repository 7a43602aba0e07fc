// Machine figures the benchmarks report against, measured in the same run.
#pragma once

namespace subq::cpu {

// fp32 FMA throughput in GFLOP/s (2 flops per lane per FMA) on `threads` threads,
// the best of the two widest vector widths enabled (see core/cpu_features.h).
double fma_peak_gflops(int threads, double seconds);
// Copy bandwidth in GB/s (bytes read + bytes written) over buffers of `bytes`
// per thread, well beyond the caches.
double copy_bandwidth_gbs(int threads, double bytes, double seconds);

}  // namespace subq::cpu
