#include "marshal.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "device_buffer.h"
#include "host_alloc.h"

namespace subq::napi {

static const char* kind_of(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  if (v.IsTypedArray()) return "a TypedArray";
  if (v.IsFunction()) return "a function";
  return "an object";
}

const char* code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::Arg: return "ERR_SUBQ_ARG";
    case ErrorCode::Shape: return "ERR_SUBQ_SHAPE";
    case ErrorCode::DType: return "ERR_SUBQ_DTYPE";
    case ErrorCode::OutOfMemory: return "ERR_SUBQ_OOM";
    case ErrorCode::Device: return "ERR_SUBQ_DEVICE";
    case ErrorCode::DeviceLost: return "ERR_SUBQ_DEVICE_LOST";
    case ErrorCode::Cancelled: return "ERR_SUBQ_CANCELLED";
    case ErrorCode::Internal: return "ERR_SUBQ_INTERNAL";
  }
  return "ERR_SUBQ_INTERNAL";
}

Napi::Error to_js(Napi::Env env, const Error& e) {
  Napi::Error js;
  switch (e.kind()) {
    case ErrorKind::Type: js = Napi::TypeError::New(env, e.what()); break;
    case ErrorKind::Range: js = Napi::RangeError::New(env, e.what()); break;
    default: js = Napi::Error::New(env, e.what()); break;
  }
  // An own data property: no setter on Error.prototype can run here.
  js.Value().DefineProperty(Napi::PropertyDescriptor::Value("code", Napi::String::New(env, code_name(e.code())),
                                                            napi_default_jsproperty));
  return js;
}

Napi::Error to_js(Napi::Env env, const std::exception_ptr& ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const Error& e) {
    return to_js(env, e);
  } catch (const std::bad_alloc&) {
    return to_js(env, Error(ErrorKind::Range, "out of memory", ErrorCode::OutOfMemory));
  } catch (const std::exception& e) {
    return to_js(env, Error(ErrorKind::Runtime, std::string("internal error: ") + e.what(), ErrorCode::Internal));
  } catch (...) {
    return to_js(env, Error(ErrorKind::Runtime, "internal error", ErrorCode::Internal));
  }
}

void throw_js(Napi::Env env, const Error& e) { throw to_js(env, e); }

// v as an integer when it is a number holding a safe integer.
static bool safe_int(const Napi::Value& v, int64_t* out) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740991.0) return false;
  *out = int64_t(d);
  return true;
}

int64_t to_int(const Napi::Value& v, const std::string& name) {
  int64_t n;
  if (safe_int(v, &n)) return n;
  if (!v.IsNumber()) type_error(name + " must be an integer, got " + kind_of(v));
  range_error(name + " must be a safe integer, got " + std::to_string(v.As<Napi::Number>().DoubleValue()));
}

// An element of a shape or strides array: to_int, with the name built only for an error.
static int64_t to_dim(const Napi::Value& v, const std::string& name, const char* field, int i) {
  int64_t n;
  if (safe_int(v, &n)) return n;
  std::string full = name;
  full.append(".").append(field).append("[").append(std::to_string(i)).append("]");
  return to_int(v, full);
}

int to_threads(const Napi::Value& v) {
  const int64_t n = to_int(v, "threads");
  if (n < 1 || n > 1024) range_error("threads must be in [1, 1024], got " + std::to_string(n));
  return int(n);
}

Layout opt_layout(const Napi::Object& o, const std::string& owner) {
  std::string s;
  if (!opt_string(o, "layout", owner, &s) || s == "bhnd") return Layout::BHND;
  if (s == "bnhd") return Layout::BNHD;
  range_error(owner + ".layout must be 'bhnd' or 'bnhd', got '" + s + "'");
}

static napi_typedarray_type array_type(DType t) {
  switch (t) {
    case DType::F32: return napi_float32_array;
    case DType::F16: case DType::BF16: return napi_uint16_array;
    case DType::I8: return napi_int8_array;
    case DType::U8: return napi_uint8_array;
    case DType::I32: return napi_int32_array;
  }
  return napi_float32_array;
}

static const char* array_name(DType t) {
  switch (t) {
    case DType::F32: return "Float32Array";
    case DType::F16: case DType::BF16: return "Uint16Array";
    case DType::I8: return "Int8Array";
    case DType::U8: return "Uint8Array";
    case DType::I32: return "Int32Array";
  }
  return "?";
}

bool parse_device(const Napi::Value& v, Device* out) {
  *out = Device{};
  if (v.IsUndefined()) return true;
  if (!v.IsString()) return false;
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "cpu") return true;
  out->kind = DeviceKind::CUDA;
  if (s == "cuda") return true;
  if (s.rfind("cuda:", 0) != 0 || s.size() < 6 || s.size() > 9) return false;
  int index = 0;
  for (size_t i = 5; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    index = index * 10 + (s[i] - '0');
  }
  out->index = index;
  return true;
}

JsTensor read_tensor(const Napi::Value& v, const std::string& name) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray())
    type_error(name + " must be a Tensor, got " + kind_of(v));
  Napi::Object o = v.As<Napi::Object>();
  JsTensor j;
  j.value = v;
  j.name = name;
  TensorView& t = j.view;
  Napi::Value dt = o.Get("dtype");
  if (!dt.IsString() || !dtype_from_name(dt.As<Napi::String>().Utf8Value(), &t.dtype))
    dtype_error(name + ".dtype must be one of float32, float16, bfloat16, int8, uint8, int32");
  Napi::Value dev = o.Get("device");
  if (!parse_device(dev, &t.device)) {
    std::string got = dev.IsString() ? "'" : kind_of(dev);
    if (dev.IsString()) got.append(dev.As<Napi::String>().Utf8Value()).append("'");
    type_error(name + ".device must be 'cpu', 'cuda' or 'cuda:N', got " + got);
  }
  Napi::Value shape = o.Get("shape"), strides = o.Get("strides");
  if (!shape.IsArray()) type_error(name + ".shape must be an array of integers, got " + kind_of(shape));
  Napi::Array sa = shape.As<Napi::Array>();
  if (sa.Length() < 1 || sa.Length() > kMaxDims)
    shape_error(name + " must have 1 to " + std::to_string(kMaxDims) + " dimensions, got " + std::to_string(sa.Length()));
  t.ndim = int(sa.Length());
  for (int i = 0; i < t.ndim; ++i) {
    t.shape[i] = to_dim(sa.Get(uint32_t(i)), name, "shape", i);
    if (t.shape[i] < 0) shape_error(name + ".shape[" + std::to_string(i) + "] must be >= 0, got " + std::to_string(t.shape[i]));
  }
  if (strides.IsUndefined()) {
    int64_t s = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
      t.stride[i] = s;
      if (t.shape[i] > 0 && __builtin_mul_overflow(s, t.shape[i], &s))
        shape_error(name + ".shape overflows 64-bit sizes");
    }
  } else {
    if (!strides.IsArray()) type_error(name + ".strides must be an array of integers, got " + kind_of(strides));
    Napi::Array ta = strides.As<Napi::Array>();
    if (int(ta.Length()) != t.ndim)
      shape_error(name + ".strides must have " + std::to_string(t.ndim) + " entries, got " + std::to_string(ta.Length()));
    for (int i = 0; i < t.ndim; ++i) t.stride[i] = to_dim(ta.Get(uint32_t(i)), name, "strides", i);
  }
  if (t.device.kind == DeviceKind::CUDA) {
    // Device memory: the tensor's buffer handle, never its `data`.
    Napi::Value handle = o.Get("deviceBuffer");
    j.buffer = DeviceBuffer::of(handle);
    if (!j.buffer)
      type_error(name + " is on " + t.device.str() + " but its deviceBuffer is " +
                 (handle.IsUndefined() ? std::string("missing") : std::string("not a DeviceBuffer")) +
                 " (create it with tensor.to('cuda'))");
    return j;
  }
  Napi::Value data = o.Get("data");
  if (!data.IsTypedArray()) type_error(name + ".data must be a " + array_name(t.dtype) + ", got " + kind_of(data));
  Napi::TypedArray ta = data.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != array_type(t.dtype))
    dtype_error(name + ".data must be a " + array_name(t.dtype) + " for dtype " + dtype_name(t.dtype));
  j.array = data;
  return j;
}

void attach(Napi::Env env, JsTensor& j) {
  TensorView& t = j.view;
  if (j.buffer) {
    j.buffer->require_live(j.name);
    if (j.buffer->device() != t.device.index)
      type_error(j.name + ".device is " + t.device.str() + " but its buffer is on cuda:" + std::to_string(j.buffer->device()));
    t.data = j.buffer->data();
    t.capacity = int64_t(j.buffer->bytes() / dtype_size(t.dtype));
    return;
  }
  size_t len = 0;
  void* ptr = nullptr;
  napi_value ab;
  size_t byte_offset = 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, j.array, &type, &len, &ptr, &ab, &byte_offset) != napi_ok)
    type_error(j.name + ".data could not be read");
  t.data = ptr;  // already includes byteOffset; a detached buffer has length 0
  t.capacity = ptr ? int64_t(len) : 0;
}

// Elements of a new contiguous tensor, checked before anything is allocated.
static int64_t new_size(const int64_t* shape, int ndim) {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i)
    if (__builtin_mul_overflow(n, shape[i], &n)) shape_error("output size overflows");
  if (n > (int64_t(1) << 40)) shape_error("output of " + std::to_string(n) + " elements is too large to allocate");
  return n;
}

static Napi::PropertyDescriptor field(const char* key, napi_value v) {
  return Napi::PropertyDescriptor::Value(key, v, napi_default_jsproperty);
}

Napi::Array number_array(Napi::Env env, const int64_t* v, int n) {
  Napi::Array a = Napi::Array::New(env, size_t(n));
  for (int i = 0; i < n; ++i) {
    const std::string key = std::to_string(i);
    a.DefineProperty(Napi::PropertyDescriptor::Value(key, Napi::Number::New(env, double(v[i])), napi_default_jsproperty));
  }
  return a;
}

// The JS description {dtype, shape, strides, device} of a new contiguous tensor at
// `data`, and its view.
static Napi::Object describe(Napi::Env env, void* data, Device device, DType dtype, const int64_t* shape, int ndim,
                             TensorView* view) {
  *view = contiguous_view(data, dtype, device, shape, ndim);
  Napi::Object o = Napi::Object::New(env);
  o.DefineProperties({field("dtype", Napi::String::New(env, dtype_name(dtype))),
                      field("shape", number_array(env, view->shape, ndim)),
                      field("strides", number_array(env, view->stride, ndim)),
                      field("device", Napi::String::New(env, device.str()))});
  return o;
}

static Napi::Object new_cpu_tensor(Napi::Env env, DType dtype, const int64_t* shape, int ndim, TensorView* view) {
  const int64_t n = new_size(shape, ndim);
  Napi::ArrayBuffer buf = new_host_buffer(env, size_t(n) * dtype_size(dtype));
  Napi::TypedArray arr;
  switch (dtype) {
    case DType::F32: arr = Napi::Float32Array::New(env, size_t(n), buf, 0); break;
    case DType::F16: case DType::BF16: arr = Napi::Uint16Array::New(env, size_t(n), buf, 0); break;
    case DType::I8: arr = Napi::Int8Array::New(env, size_t(n), buf, 0); break;
    case DType::U8: arr = Napi::Uint8Array::New(env, size_t(n), buf, 0); break;
    case DType::I32: arr = Napi::Int32Array::New(env, size_t(n), buf, 0); break;
  }
  Napi::Object o = describe(env, buf.Data(), Device{}, dtype, shape, ndim, view);
  o.DefineProperty(field("data", arr));
  return o;
}

Napi::Object new_tensor(Napi::Env env, Device device, DType dtype, const int64_t* shape, int ndim, TensorView* view) {
  if (device.kind == DeviceKind::CPU) return new_cpu_tensor(env, dtype, shape, ndim, view);
  const int64_t n = new_size(shape, ndim);
  Napi::Object buf = DeviceBuffer::create(env, device.index, size_t(n) * dtype_size(dtype));
  Napi::Object o = describe(env, DeviceBuffer::Unwrap(buf)->data(), device, dtype, shape, ndim, view);
  o.DefineProperty(field("deviceBuffer", buf));
  return o;
}

Napi::Object as_object(const Napi::Value& v, const std::string& name) {
  if (v.IsUndefined() || v.IsNull()) return Napi::Object::New(v.Env());
  if (!v.IsObject() || v.IsArray()) type_error(name + " must be an object, got " + kind_of(v));
  return v.As<Napi::Object>();
}

bool opt_bool(const Napi::Object& o, const char* key, const std::string& owner, bool dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsBoolean()) type_error(owner + "." + key + " must be a boolean, got " + kind_of(v));
  return v.As<Napi::Boolean>().Value();
}

bool opt_number(const Napi::Object& o, const char* key, const std::string& owner, double* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return false;
  if (!v.IsNumber()) type_error(owner + "." + key + " must be a number, got " + kind_of(v));
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

bool opt_int(const Napi::Object& o, const char* key, const std::string& owner, int64_t* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return false;
  *out = to_int(v, owner + "." + key);
  return true;
}

bool opt_string(const Napi::Object& o, const char* key, const std::string& owner, std::string* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return false;
  if (!v.IsString()) type_error(owner + "." + key + " must be a string, got " + kind_of(v));
  *out = v.As<Napi::String>().Utf8Value();
  return true;
}

}  // namespace subq::napi
