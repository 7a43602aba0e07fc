// Device twin of block_mask_runner_emulated.cpp: the same cases on a real GPU.
#include <memory>

#include "../../csrc/cuda/block_mask_launch.h"
#include "block_mask_runner.h"
#include "device_copy.h"

namespace subq::test {

void run_cuda_block_mask_compact(const BlockMaskParams& p) {
  BlockMaskParams d = p;
  TensorView mc;  // the max count as a view, to copy it like the tensors
  mc.data = p.max_count, mc.dtype = DType::I32, mc.capacity = p.max_count ? 1 : 0;
  DeviceCopy mask(d.mask), counts(d.counts);
  std::unique_ptr<DeviceCopy> out_mask, indices, visible, max_count;
  if (d.out_mask.data) out_mask = std::make_unique<DeviceCopy>(d.out_mask);
  if (d.indices.data) indices = std::make_unique<DeviceCopy>(d.indices);
  if (d.visible.data) visible = std::make_unique<DeviceCopy>(d.visible);
  if (p.max_count) {
    max_count = std::make_unique<DeviceCopy>(mc);
    d.max_count = static_cast<int32_t*>(mc.data);
  }
  cuda::block_mask_compact_launch(d, nullptr);
  cuda_ok(cudaDeviceSynchronize(), "block-mask compaction kernel");
  counts.back();
  for (const auto& c : {out_mask.get(), indices.get(), visible.get(), max_count.get()})
    if (c) c->back();
}

void run_cuda_block_mask_expand(const BlockMaskExpandParams& p) {
  BlockMaskExpandParams d = p;
  DeviceCopy indices(d.indices), counts(d.counts), mask(d.mask);
  cuda::block_mask_expand_launch(d, nullptr);
  cuda_ok(cudaDeviceSynchronize(), "block-mask expansion kernel");
  mask.back();
}

}  // namespace subq::test
