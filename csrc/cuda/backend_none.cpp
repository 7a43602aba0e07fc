// Stand-in for the CUDA backend in builds without a CUDA compiler: zero devices,
// and every use of CUDA is refused with the reason.
#include "../core/error.h"
#include "backend.h"
#include "runtime.h"

namespace subq::cuda {

void no_cuda() {
  runtime_error("this build of subquadratic has no CUDA backend (it was built without a CUDA compiler, or with "
                "SUBQ_CUDA=0); rebuild with nvcc on PATH to use 'cuda' tensors");
}

Info info() { return Info{}; }
int device_count() { return 0; }
void use_device(int) { no_cuda(); }
CUstream_st* stream(int) { no_cuda(); }
Fence& Fence::operator=(Fence&& o) noexcept {
  device_ = o.device_;
  event_ = o.event_;
  o.event_ = nullptr;
  return *this;
}
Fence::~Fence() = default;
bool Fence::done() const { return true; }
void Fence::wait() const {}
Fence fence(int) { no_cuda(); }
void wait(int) { no_cuda(); }
void keep_until_done(int, std::shared_ptr<const void>) { no_cuda(); }
void* alloc(int, size_t) { no_cuda(); }
void release(int, void*) noexcept {}
void upload(int, void*, const void*, size_t, std::shared_ptr<const void>) { no_cuda(); }
void download(int, void*, const void*, size_t, std::shared_ptr<const void>) { no_cuda(); }
void copy(int, void*, const void*, size_t) { no_cuda(); }
void read_back(int, void*, const void*, size_t) { no_cuda(); }
void attention(const AttentionParams&) { no_cuda(); }
void merge_states(const MergeParams&) { no_cuda(); }

}  // namespace subq::cuda
