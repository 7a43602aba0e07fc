// Conversions between JavaScript values and core types. Type errors name the
// argument; range and shape rules are left to ops/.
#pragma once
#include <napi.h>

#include <string>

#include "../core/error.h"
#include "../core/tensor.h"
#include "../ops/attention.h"

namespace subq::napi {

// A tensor-like JS object {dtype, shape, strides, device, data | deviceBuffer}, as
// lib/tensor.ts sends it. CUDA tensors give views of their device memory (a
// disposed one is a TypeError); the capacity comes from the buffer.
TensorView to_view(const Napi::Value& v, const std::string& name);
// 'cpu' (or undefined), 'cuda', 'cuda:N'; false for anything else.
bool parse_device(const Napi::Value& v, Device* out);
// A new CPU tensor object with contiguous strides and a zeroed TypedArray.
Napi::Object new_cpu_tensor(Napi::Env env, DType dtype, const int64_t* shape, int ndim, TensorView* view);
// A new contiguous tensor object on `device` (device memory is not initialised).
Napi::Object new_tensor(Napi::Env env, Device device, DType dtype, const int64_t* shape, int ndim, TensorView* view);

// The caller's owner.out, or a new contiguous tensor of `shape` on `device`.
Napi::Value out_or_new(Napi::Env env, const Napi::Object& options, Device device, DType dtype, const int64_t* shape,
                       int ndim, TensorView* view);

Napi::Object as_object(const Napi::Value& v, const std::string& name);    // undefined -> {}
bool opt_bool(const Napi::Object& o, const char* key, const std::string& owner, bool dflt);
bool opt_number(const Napi::Object& o, const char* key, const std::string& owner, double* out);
bool opt_int(const Napi::Object& o, const char* key, const std::string& owner, int64_t* out);
bool opt_string(const Napi::Object& o, const char* key, const std::string& owner, std::string* out);
int64_t to_int(const Napi::Value& v, const std::string& name);
// A thread count in [1, 1024].
int to_threads(const Napi::Value& v);
// owner.layout: 'bhnd' (default) or 'bnhd'.
Layout opt_layout(const Napi::Object& o, const std::string& owner);

// Throws the JS error class that matches e.kind().
[[noreturn]] void throw_js(Napi::Env env, const Error& e);
Napi::Error to_js(Napi::Env env, ErrorKind kind, const std::string& msg);

}  // namespace subq::napi
