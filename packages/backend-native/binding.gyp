{
  "targets": [
    {
      "target_name": "cope_native",
      "sources": ["native/addon.c", "native/elementwise.c"],
      "cflags": ["-O3", "-march=native", "-std=c11"],
      "libraries": ["-lopenblas"]
    }
  ]
}
