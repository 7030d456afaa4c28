;; SwiGLU's gating for the wasm backend's heap, without a gradient (prompts, decoding steps, scoring):
;;
;;   out[i] = (gate[i] · sigmoid(gate[i])) · up[i]
;;
;; gate, up and out hold n floats (n a multiple of 4); byte addresses. The sigmoid is XNNPACK's wasm SIMD one
;; (f32-vsigmoid wasmsimd-rr2-p5-div, which tfjs-backend-wasm 4.22 runs for Sigmoid), step for step: e^-|x|
;; from a two-constant range reduction and a degree-5 polynomial, e / (e + 1), 0 past the denormal cutoff,
;; 1 − that for x ≥ 0. With the two float32 products after it, the values equal the backend's Sigmoid and
;; Multiply ops bit for bit. Three backend ops per layer become one kernel.
(module
  (import "env" "memory" (memory 1))

  (func (export "swiglu") (param $gate i32) (param $up i32) (param $out i32) (param $n i32)
    (local $end i32) (local $x v128) (local $z v128) (local $k v128) (local $s v128) (local $t v128)
    (local $p v128) (local $e v128) (local $f v128)
    (local.set $end (i32.add (local.get $gate) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $gate) (local.get $end)))
        (local.set $x (v128.load (local.get $gate)))
        (local.set $z (f32x4.abs (local.get $x)))
        ;; k = round(-z / ln2) in the low bits of a magic-biased float; s = 2^k from those bits
        (local.set $k (f32x4.add (v128.const f32x4 0x1.8000FEp23 0x1.8000FEp23 0x1.8000FEp23 0x1.8000FEp23)
          (f32x4.mul (local.get $z) (v128.const f32x4 -0x1.715476p+0 -0x1.715476p+0 -0x1.715476p+0 -0x1.715476p+0))))
        (local.set $s (i32x4.shl (local.get $k) (i32.const 23)))
        (local.set $k (f32x4.sub (local.get $k) (v128.const f32x4 0x1.8000FEp23 0x1.8000FEp23 0x1.8000FEp23 0x1.8000FEp23)))
        ;; t = z + k·ln2, in two parts (ln2_hi has its last 7 bits zero)
        (local.set $t (f32x4.add (local.get $z) (f32x4.mul (local.get $k) (v128.const f32x4 0x1.62E400p-1 0x1.62E400p-1 0x1.62E400p-1 0x1.62E400p-1))))
        (local.set $t (f32x4.add (local.get $t) (f32x4.mul (local.get $k) (v128.const f32x4 0x1.7F7D1Cp-20 0x1.7F7D1Cp-20 0x1.7F7D1Cp-20 0x1.7F7D1Cp-20))))
        (local.set $p (f32x4.add (v128.const f32x4 0x1.573A1Ap-5 0x1.573A1Ap-5 0x1.573A1Ap-5 0x1.573A1Ap-5)
          (f32x4.mul (local.get $t) (v128.const f32x4 -0x1.0F9F9Cp-7 -0x1.0F9F9Cp-7 -0x1.0F9F9Cp-7 -0x1.0F9F9Cp-7))))
        (local.set $p (f32x4.add (v128.const f32x4 -0x1.555A80p-3 -0x1.555A80p-3 -0x1.555A80p-3 -0x1.555A80p-3) (f32x4.mul (local.get $t) (local.get $p))))
        (local.set $p (f32x4.add (v128.const f32x4 0x1.FFFDC6p-2 0x1.FFFDC6p-2 0x1.FFFDC6p-2 0x1.FFFDC6p-2) (f32x4.mul (local.get $t) (local.get $p))))
        (local.set $p (f32x4.add (v128.const f32x4 -0x1.FFFFF6p-1 -0x1.FFFFF6p-1 -0x1.FFFFF6p-1 -0x1.FFFFF6p-1) (f32x4.mul (local.get $t) (local.get $p))))
        (local.set $t (f32x4.mul (local.get $t) (local.get $s)))
        (local.set $e (f32x4.add (local.get $s) (f32x4.mul (local.get $t) (local.get $p))))
        ;; sigmoid(-z) = e / (e + 1), flushed to 0 where e^-z would be denormal; 1 − that for x >= 0
        (local.set $f (f32x4.div (local.get $e) (f32x4.add (local.get $e) (v128.const f32x4 1 1 1 1))))
        (local.set $f (v128.andnot (local.get $f)
          (f32x4.gt (local.get $z) (v128.const f32x4 0x1.5D589Ep+6 0x1.5D589Ep+6 0x1.5D589Ep+6 0x1.5D589Ep+6))))
        (local.set $f (v128.bitselect (local.get $f) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $f))
          (i32x4.shr_s (local.get $x) (i32.const 31))))
        (v128.store (local.get $out) (f32x4.mul (f32x4.mul (local.get $x) (local.get $f)) (v128.load (local.get $up))))
        (local.set $gate (i32.add (local.get $gate) (i32.const 16)))
        (local.set $up (i32.add (local.get $up) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))
)
