// The one error type that crosses from kernels and validation to the bindings.
// Kind selects the JavaScript class the N-API layer throws.
#pragma once
#include <stdexcept>
#include <string>

namespace subq {

enum class ErrorKind { Type, Range, Runtime };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] inline void type_error(const std::string& msg) { throw Error(ErrorKind::Type, msg); }
[[noreturn]] inline void range_error(const std::string& msg) { throw Error(ErrorKind::Range, msg); }
[[noreturn]] inline void runtime_error(const std::string& msg) { throw Error(ErrorKind::Runtime, msg); }

}  // namespace subq
