// Stand-in for the CUDA backend in builds without a CUDA compiler.
#include "../core/error.h"
#include "backend.h"

namespace subq::cuda {

Info info() { return Info{}; }

void attention(const AttentionParams&) {
  runtime_error("this build of subquadratic has no CUDA backend (it was built without a CUDA compiler)");
}

}  // namespace subq::cuda
