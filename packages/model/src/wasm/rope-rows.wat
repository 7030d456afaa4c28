;; Rotary position embedding in transformers' rotate_half convention, for the wasm backend's heap:
;;
;;   out[n, h, j]        = x[n, h, j]·cos[n, j] − x[n, h, j + half]·sin[n, j]
;;   out[n, h, j + half] = x[n, h, j + half]·cos[n, j] + x[n, h, j]·sin[n, j]      (j < half)
;;
;; x and out [N, heads, 2·half], cos and sin [N, half]; f32, byte addresses; half a multiple of 4. Each value
;; is two float32 products and one float32 sum or difference, as the op-by-op form (split, four multiplies,
;; subtract, add, concat) computes it, so the results are the same bit for bit. With sin negated this is the
;; gradient with respect to x (the rotation's transpose).
(module
  (import "env" "memory" (memory 1))

  (func (export "rope") (param $x i32) (param $cos i32) (param $sin i32) (param $out i32)
      (param $N i32) (param $heads i32) (param $half i32)
    (local $rowBytes i32) (local $halfBytes i32) (local $h i32) (local $j i32)
    (local $x1 v128) (local $x2 v128) (local $c v128) (local $s v128)
    (local.set $halfBytes (i32.shl (local.get $half) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $N)))
        (local.set $h (local.get $heads))
        (loop $head
          (local.set $j (i32.const 0))
          (loop $lane
            (local.set $x1 (v128.load (i32.add (local.get $x) (local.get $j))))
            (local.set $x2 (v128.load (i32.add (i32.add (local.get $x) (local.get $halfBytes)) (local.get $j))))
            (local.set $c (v128.load (i32.add (local.get $cos) (local.get $j))))
            (local.set $s (v128.load (i32.add (local.get $sin) (local.get $j))))
            (v128.store (i32.add (local.get $out) (local.get $j))
              (f32x4.sub (f32x4.mul (local.get $x1) (local.get $c)) (f32x4.mul (local.get $x2) (local.get $s))))
            (v128.store (i32.add (i32.add (local.get $out) (local.get $halfBytes)) (local.get $j))
              (f32x4.add (f32x4.mul (local.get $x2) (local.get $c)) (f32x4.mul (local.get $x1) (local.get $s))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br_if $lane (i32.lt_u (local.get $j) (local.get $halfBytes))))
          (local.set $x (i32.add (local.get $x) (i32.shl (local.get $halfBytes) (i32.const 1))))
          (local.set $out (i32.add (local.get $out) (i32.shl (local.get $halfBytes) (i32.const 1))))
          (local.set $h (i32.sub (local.get $h) (i32.const 1)))
          (br_if $head (local.get $h)))
        (local.set $cos (i32.add (local.get $cos) (local.get $halfBytes)))
        (local.set $sin (i32.add (local.get $sin) (local.get $halfBytes)))
        (local.set $N (i32.sub (local.get $N) (i32.const 1)))
        (br $row))))
)
