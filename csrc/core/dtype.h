// Element types shared by every backend. Names match the TypeScript API.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace subq {

enum class DType : uint8_t { F32, F16, BF16, I8, U8, I32 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    default: return 1;
  }
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::I8: return "int8";
    case DType::U8: return "uint8";
    case DType::I32: return "int32";
  }
  return "?";
}

// Returns false for an unknown name.
inline bool dtype_from_name(const std::string& s, DType* out) {
  static const DType all[] = {DType::F32, DType::F16, DType::BF16, DType::I8, DType::U8, DType::I32};
  for (DType t : all)
    if (s == dtype_name(t)) { *out = t; return true; }
  return false;
}

inline bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

}  // namespace subq
