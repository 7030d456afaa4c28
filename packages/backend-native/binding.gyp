{
  "targets": [
    {
      "target_name": "cope_native",
      "sources": ["native/addon.c", "native/elementwise.c", "native/rows_gemm.c", "native/attention.c", "native/sgemm.c", "native/decoder_step.c", "native/decode_session.c", "native/napi_args.c", "native/session_addon.c", "native/packed_gemm.c", "native/vector_math.c", "native/vector_math_addon.c"],
      "cflags": ["-O3", "-march=native", "-std=c11", "-fno-math-errno", "-fno-trapping-math", "-mprefer-vector-width=512", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-lopenblas"]
    }
  ]
}
