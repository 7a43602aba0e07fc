#include "staging.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "../core/error.h"

namespace subq::napi {

namespace {

// Bytes from t.data to one past the last element t addresses (t is validated).
size_t extent(const TensorView& t) {
  int64_t last = 0;
  for (int i = 0; i < t.ndim; ++i) last += (t.shape[i] - 1) * t.stride[i];
  return size_t(last + 1) * dtype_size(t.dtype);
}

// Copies every element of `from` to the same element of `to` (same shape and
// strides, last dim contiguous), a row at a time.
void copy_rows(const TensorView& from, const TensorView& to) {
  const int nd = from.ndim;
  const size_t es = dtype_size(from.dtype), row = size_t(from.shape[nd - 1]) * es;
  int64_t idx[kMaxDims] = {};
  for (;;) {
    int64_t off = 0;
    for (int i = 0; i < nd - 1; ++i) off += idx[i] * from.stride[i];
    std::memcpy(static_cast<uint8_t*>(to.data) + off * es, static_cast<const uint8_t*>(from.data) + off * es, row);
    int d = nd - 2;
    for (; d >= 0; --d) {
      if (++idx[d] < from.shape[d]) break;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

// Memory for a copy (a reused huge-page block when large); out of memory is ERR_SUBQ_OOM.
HostMemory copy_memory(size_t bytes) {
  try {
    return HostMemory(bytes);
  } catch (const std::bad_alloc&) {
    oom_error("out of memory: an async call could not copy " + std::to_string(bytes) + " bytes of its inputs");
  }
}

}  // namespace

Staging::Staging(Napi::Env env, const std::vector<Item>& items) {
  struct Span {
    uint8_t* lo;
    uint8_t* hi;
    size_t item;
  };
  std::vector<Span> spans;
  for (size_t i = 0; i < items.size(); ++i) {
    const TensorView& t = *items[i].view;
    auto* lo = static_cast<uint8_t*>(t.data);
    spans.push_back({lo, lo + std::min(extent(t), size_t(t.capacity) * dtype_size(t.dtype)), i});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
  std::vector<TensorView> caller(items.size());
  for (size_t i = 0; i < items.size(); ++i) caller[i] = *items[i].view;
  for (size_t s = 0; s < spans.size();) {
    size_t e = s + 1;
    uint8_t* hi = spans[s].hi;
    while (e < spans.size() && spans[e].lo < hi) hi = std::max(hi, spans[e++].hi);
    const size_t bytes = size_t(hi - spans[s].lo);
    blocks_.push_back(copy_memory(bytes));
    uint8_t* block = blocks_.back().data();
    std::memcpy(block, spans[s].lo, bytes);
    for (size_t k = s; k < e; ++k) {
      TensorView& t = *items[spans[k].item].view;
      const size_t at = size_t(static_cast<uint8_t*>(t.data) - spans[s].lo);
      t.data = block + at;
      t.capacity = int64_t((bytes - at) / dtype_size(t.dtype));
    }
    s = e;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].written) continue;
    size_t len = 0, offset = 0;
    void* data = nullptr;
    napi_value ab;
    napi_typedarray_type type;
    napi_get_typedarray_info(env, items[i].array, &type, &len, &data, &ab, &offset);
    Back b;
    b.array = Napi::Persistent(Napi::Value(env, items[i].array));
    b.base = data;
    b.bytes = len * dtype_size(caller[i].dtype);
    b.caller = caller[i];
    b.staged = *items[i].view;
    b.name = items[i].name;
    back_.push_back(std::move(b));
  }
}

void Staging::write_back(Napi::Env env) {
  std::string lost;
  for (Back& b : back_) {
    size_t len = 0, offset = 0;
    void* data = nullptr;
    napi_value ab;
    napi_typedarray_type type;
    const bool same = napi_get_typedarray_info(env, b.array.Value(), &type, &len, &data, &ab, &offset) == napi_ok &&
                      data == b.base && len * dtype_size(b.caller.dtype) >= b.bytes;
    if (same) copy_rows(b.staged, b.caller);
    else lost += (lost.empty() ? "" : ", ") + b.name;
  }
  if (!lost.empty())
    range_error(lost + ": the buffer was resized, transferred or detached while the call ran, so its result was not written");
}

}  // namespace subq::napi
