// Private copies of the callers' CPU memory for an async call (see call.h).
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../core/host_blocks.h"
#include "../core/tensor.h"

namespace subq::napi {

class Staging {
 public:
  struct Item {
    TensorView* view;   // rebased onto the copy
    napi_value array;   // its TypedArray (for written items, re-read at write_back)
    bool written;
    std::string name;
  };
  // Copies the memory the views address, one block per set of overlapping views
  // (so aliasing the op allows stays aliasing), and rebases the views onto it.
  // Must run on the JS thread right after attach(); allocation failure is ERR_SUBQ_OOM.
  Staging(Napi::Env env, const std::vector<Item>& items);
  // On the JS thread after the work: copies each written view back into its
  // caller's memory. Throws (ERR_SUBQ_ARG) when a caller's buffer was resized,
  // transferred or detached meanwhile; nothing of that tensor is written then.
  void write_back(Napi::Env env);

 private:
  struct Back {
    Napi::Reference<Napi::Value> array;
    void* base;          // the array's data pointer when the call began
    size_t bytes;        // and its length in bytes
    TensorView caller;   // the caller's view
    TensorView staged;   // the same elements in the copy
    std::string name;
  };
  std::vector<HostMemory> blocks_;
  std::vector<Back> back_;
};

}  // namespace subq::napi
