// Block-mask compaction on CUDA: enqueue the kernel (block_mask_kernel.cu) on the
// device's stream and return, as the other ops do; sizing the compact form reads back
// one int.
#include <vector>

#include "block_mask.h"
#include "block_mask_launch.h"
#include "device_table.h"
#include "error.cuh"
#include "runtime.h"

namespace subq::cuda {

void block_mask_compact(const BlockMaskParams& p) {
  const int dev = p.mask.device.index;
  launch_checked(dev, "blockMaskToIndices", [&] { block_mask_compact_launch(p, stream(dev)); });
}

int64_t block_mask_widest(const BlockMaskParams& p) {
  const int dev = p.mask.device.index;
  int32_t widest = 0;
  launch_checked(dev, "blockMaskToIndices", [&] {
    const DeviceTable<int32_t> max_count(dev, std::vector<int32_t>{0});
    BlockMaskParams c = p;
    c.indices = c.out_mask = c.visible = TensorView{};
    c.max_count = const_cast<int32_t*>(max_count.get());
    block_mask_compact_launch(c, stream(dev));
    read_back(dev, &widest, max_count.get(), sizeof widest);
  });
  return widest;
}

void block_mask_expand(const BlockMaskExpandParams& p) {
  const int dev = p.mask.device.index;
  launch_checked(dev, "indicesToBlockMask", [&] { block_mask_expand_launch(p, stream(dev)); });
}

}  // namespace subq::cuda
