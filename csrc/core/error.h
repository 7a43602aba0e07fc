// The one error type that crosses from kernels and validation to the bindings.
// Kind selects the JavaScript class the N-API layer throws; Code is the stable
// `code` property callers can branch on (the JS names are in napi/marshal.cpp).
#pragma once
#include <stdexcept>
#include <string>

namespace subq {

enum class ErrorKind { Type, Range, Runtime };
// DeviceLost: a kernel fault (illegal address, trap, ...) left the CUDA context of
// a device unusable; every later call on that device fails with it.
enum class ErrorCode { Arg, Shape, DType, OutOfMemory, Device, DeviceLost, Cancelled, Internal };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& msg, ErrorCode code)
      : std::runtime_error(msg), kind_(kind), code_(code) {}
  Error(ErrorKind kind, const std::string& msg)
      : Error(kind, msg, kind == ErrorKind::Runtime ? ErrorCode::Device : ErrorCode::Arg) {}
  ErrorKind kind() const { return kind_; }
  ErrorCode code() const { return code_; }

 private:
  ErrorKind kind_;
  ErrorCode code_;
};

[[noreturn]] inline void type_error(const std::string& msg) { throw Error(ErrorKind::Type, msg); }
[[noreturn]] inline void range_error(const std::string& msg) { throw Error(ErrorKind::Range, msg); }
// Runtime failures come from the device runtime (a CUDA call that failed).
[[noreturn]] inline void runtime_error(const std::string& msg) { throw Error(ErrorKind::Runtime, msg); }
// A tensor's dtype is not one the op takes (TypeError).
[[noreturn]] inline void dtype_error(const std::string& msg) { throw Error(ErrorKind::Type, msg, ErrorCode::DType); }
// Shapes, strides or extents that do not fit the op or the buffer (RangeError).
[[noreturn]] inline void shape_error(const std::string& msg) { throw Error(ErrorKind::Range, msg, ErrorCode::Shape); }
[[noreturn]] inline void oom_error(const std::string& msg) {
  throw Error(ErrorKind::Range, msg, ErrorCode::OutOfMemory);
}
[[noreturn]] inline void device_lost_error(const std::string& msg) {
  throw Error(ErrorKind::Runtime, msg, ErrorCode::DeviceLost);
}
[[noreturn]] inline void cancelled_error(const std::string& msg) {
  throw Error(ErrorKind::Runtime, msg, ErrorCode::Cancelled);
}

}  // namespace subq
