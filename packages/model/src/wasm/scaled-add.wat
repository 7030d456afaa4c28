;; A LoRA update added to a projection's output, for the wasm backend's heap, without a gradient:
;;
;;   out[r, c] = y[r, c] + delta[r, c] · scale[r]
;;
;; y, delta and out [R, C], scale [R] (the LoRA scale on the rows that use the adapter, 0 on the others); f32,
;; byte addresses, C a multiple of 4. One float32 product and one float32 sum, as the backend's Multiply and
;; Add compute them, so bitwise the same; two backend ops (a broadcast multiply the threaded build splits
;; over its pool even for two rows) become one kernel.
(module
  (import "env" "memory" (memory 1))

  (func (export "scaledAdd") (param $y i32) (param $delta i32) (param $scale i32) (param $out i32) (param $R i32) (param $C i32)
    (local $rowEnd i32) (local $s v128)
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $R)))
        (local.set $s (v128.load32_splat (local.get $scale)))
        (local.set $rowEnd (i32.add (local.get $y) (i32.shl (local.get $C) (i32.const 2))))
        (loop $col
          (v128.store (local.get $out)
            (f32x4.add (v128.load (local.get $y)) (f32x4.mul (v128.load (local.get $delta)) (local.get $s))))
          (local.set $y (i32.add (local.get $y) (i32.const 16)))
          (local.set $delta (i32.add (local.get $delta) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (br_if $col (i32.lt_u (local.get $y) (local.get $rowEnd))))
        (local.set $scale (i32.add (local.get $scale) (i32.const 4)))
        (local.set $R (i32.sub (local.get $R) (i32.const 1)))
        (br $row))))
)
