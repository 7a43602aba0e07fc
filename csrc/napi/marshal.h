// Conversions between JavaScript values and core types. Type errors name the
// argument; range and shape rules are left to ops/.
#pragma once
#include <napi.h>

#include <exception>
#include <string>

#include "../core/error.h"
#include "../core/tensor.h"
#include "../ops/attention.h"

namespace subq::napi {

class DeviceBuffer;

// A tensor argument as read from JavaScript. Reading runs user code (getters,
// Proxies) that may resize, transfer or detach any ArrayBuffer, so a binding reads
// all its arguments first and only then attach()es them: their memory is taken with
// no JavaScript in between.
struct JsTensor {
  TensorView view;                 // data and capacity are set by attach()
  Napi::Value value;               // the tensor object
  napi_value array = nullptr;      // CPU: its data TypedArray
  DeviceBuffer* buffer = nullptr;  // CUDA: its device memory
  std::string name;
};

// A tensor-like JS object {dtype, shape, strides, device, data | deviceBuffer}, as
// lib/tensor.ts sends it. Runs JavaScript; takes no memory.
JsTensor read_tensor(const Napi::Value& v, const std::string& name);
// Takes t's memory: the TypedArray's current bytes, or a live device buffer (a
// disposed one is a TypeError). Runs no JavaScript.
void attach(Napi::Env env, JsTensor& t);
// 'cpu' (or undefined), 'cuda', 'cuda:N'; false for anything else.
bool parse_device(const Napi::Value& v, Device* out);
// A JS array of the n numbers at v, built from own data properties (no
// Array.prototype setter runs).
Napi::Array number_array(Napi::Env env, const int64_t* v, int n);
// A new contiguous tensor object on `device` (CPU memory zeroed, device memory
// not initialised), and its view. Runs no user JavaScript (own data properties
// only), and a failed allocation is a RangeError with code ERR_SUBQ_OOM.
Napi::Object new_tensor(Napi::Env env, Device device, DType dtype, const int64_t* shape, int ndim, TensorView* view);

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

// The JS error for a core error: its class from e.kind(), `code` from e.code().
Napi::Error to_js(Napi::Env env, const Error& e);
// The JS error for whatever a binding or kernel threw (core errors, std::bad_alloc
// as ERR_SUBQ_OOM, any other std::exception as ERR_SUBQ_INTERNAL).
Napi::Error to_js(Napi::Env env, const std::exception_ptr& e);
[[noreturn]] void throw_js(Napi::Env env, const Error& e);
// The stable JS code of an error code ("ERR_SUBQ_SHAPE", ...).
const char* code_name(ErrorCode c);

}  // namespace subq::napi
