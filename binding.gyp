{
  "targets": [
    {
      "target_name": "native_rnn",
      "sources": [
        "<!@(node -p \"require('./native/sources.json').kernels.join(' ')\")",
        "<!@(node -p \"require('./native/sources.json').addon.join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": ["NAPI_VERSION=9", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-pthread"],
      "cflags_cc": [
        "-std=c++17", "-fexceptions", "-O3", "-fno-math-errno", "-ffp-contract=off", "-fvisibility=hidden",
        "-Wall", "-Wextra", "-Wno-unused-parameter", "-pthread"
      ],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-Wall", "-Wextra"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1 }
      }
    }
  ]
}
