{
  # CPU-only build for machines without cmake; the same source list as CMakeLists.txt.
  "variables": {
    "subq_cflags": ["-O3", "-std=c++20", "-fno-math-errno", "-fno-trapping-math", "-fexceptions"]
  },
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["<@(subq_cflags)"]
  },
  "targets": [
    {
      "target_name": "subq_avx2",
      "type": "static_library",
      "sources": ["<!@(node scripts/sources.js avx2)"],
      "cflags_cc": ["-mavx2", "-mfma", "-mf16c"]
    },
    {
      "target_name": "subq_avx512",
      "type": "static_library",
      "sources": ["<!@(node scripts/sources.js avx512)"],
      "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mf16c"]
    },
    {
      "target_name": "subq_avx512bf16",
      "type": "static_library",
      "sources": ["<!@(node scripts/sources.js avx512bf16)"],
      "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma", "-mf16c", "-mavx512bf16"]
    },
    {
      "target_name": "subquadratic",
      "dependencies": ["subq_avx2", "subq_avx512", "subq_avx512bf16"],
      "sources": ["<!@(node scripts/sources.js portable)", "<!@(node scripts/sources.js nocuda)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS",
                  "SUBQ_VERSION=<!(node -p \"JSON.stringify(require('./package.json').version)\")"],
      "libraries": ["-lpthread", "-ldl"]
    }
  ]
}
