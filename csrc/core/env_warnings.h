// Environment variables that tune the library (SUBQ_SIMD, SUBQ_NUM_THREADS,
// SUBQ_VECTOR_BITS) are read once; a value that is not understood is ignored, and
// says so here rather than silently. The bindings hand these to process.emitWarning.
#pragma once
#include <string>
#include <vector>

namespace subq {

// Records "NAME=value is not <what>; <action>" once per variable.
void env_warning(const char* name, const char* value, const std::string& what);
std::vector<std::string> env_warnings();

}  // namespace subq
