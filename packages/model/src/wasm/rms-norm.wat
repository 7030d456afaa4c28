;; RMSNorm of rows for the wasm backend's heap, without a gradient (prompts, decoding steps, scoring):
;;
;;   out[n, :] = x[n, :] · (1 / sqrt(mean(x[n, :]²) + eps)) · w
;;
;; x and out [N, H], w [H]; f32, byte addresses; H a multiple of 4. The op-by-op form's arithmetic step by step:
;; squares rounded to float32 and summed in order (tfjs-wasm's Mean), divided by H, plus eps, one over the
;; float32 square root (its Rsqrt), then two float32 products; so the results are the same bit for bit. Six
;; backend ops per norm become one kernel.
(module
  (import "env" "memory" (memory 1))

  (func (export "rmsnorm") (param $x i32) (param $w i32) (param $out i32) (param $N i32) (param $H i32) (param $eps f32)
    (local $rowBytes i32) (local $j i32) (local $s f32) (local $v f32) (local $r v128)
    (local.set $rowBytes (i32.shl (local.get $H) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $N)))
        (local.set $s (f32.const 0))
        (local.set $j (i32.const 0))
        (loop $sum
          (local.set $v (f32.load (i32.add (local.get $x) (local.get $j))))
          (local.set $s (f32.add (local.get $s) (f32.mul (local.get $v) (local.get $v))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $sum (i32.lt_u (local.get $j) (local.get $rowBytes))))
        (local.set $r (f32x4.splat (f32.div (f32.const 1)
          (f32.sqrt (f32.add (f32.div (local.get $s) (f32.convert_i32_u (local.get $H))) (local.get $eps))))))
        (local.set $j (i32.const 0))
        (loop $scale
          (v128.store (i32.add (local.get $out) (local.get $j))
            (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $j))) (local.get $r))
              (v128.load (i32.add (local.get $w) (local.get $j)))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $scale (i32.lt_u (local.get $j) (local.get $rowBytes))))
        (local.set $x (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $N (i32.sub (local.get $N) (i32.const 1)))
        (br $row))))
)
