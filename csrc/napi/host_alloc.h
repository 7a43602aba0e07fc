// The memory of new CPU outputs: every op's output comes from new_host_buffer().
#pragma once
#include <napi.h>

#include <cstddef>

namespace subq::napi {

// A zeroed ArrayBuffer of `bytes`. A large one (>= 1 MiB) is a huge-page block
// (core/host_blocks.h) behind an external ArrayBuffer, handed back to the block cache
// when the buffer is collected, so a default call runs about as fast as one given
// options.out. A small one is V8's own, and so is a large one when Node refuses
// external buffers or too many blocks await collection (a synchronous loop), with
// huge pages asked for. A size that cannot be allocated is a RangeError
// (ERR_SUBQ_OOM).
Napi::ArrayBuffer new_host_buffer(Napi::Env env, size_t bytes);

}  // namespace subq::napi
