;; Few-row products against a panel-packed weight, for decoding steps on the wasm backend.
;;
;;   y[R, N] = x[R, K] · W[K, N]      (R = 1 or 2; f32, row-major x and y; byte addresses)
;;
;; W arrives packed in panels of 16 columns: panel p holds W[k, 16p .. 16p+15] for k = 0 .. K-1,
;; contiguous (K·16 floats), the last panel zero-padded. Each panel is then one sequential stream, and
;; both rows of x use every weight vector loaded (XNNPACK's path for 2-4 rows computes 4 rows).
;; Sums run over k in order, one multiply then one add per term, as XNNPACK's f32 kernels do.
;; The x values enter as load-splats: x86 broadcasts from memory on a load port, where splatting a loaded
;; scalar takes a shuffle (measured: two rows 15-18% faster, one row the same).
(module
  (import "env" "memory" (memory 1))

  (func (export "rows2") (param $x i32) (param $w i32) (param $y i32) (param $K i32) (param $N i32)
    (local $x1 i32) (local $y1 i32) (local $n0 i32) (local $full i32) (local $p i32) (local $xp i32) (local $k i32)
    (local $a0 v128) (local $a1 v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local $s0 f32) (local $s1 f32) (local $ws f32)
    (local.set $x1 (i32.add (local.get $x) (i32.shl (local.get $K) (i32.const 2))))
    (local.set $y1 (i32.add (local.get $y) (i32.shl (local.get $N) (i32.const 2))))
    (local.set $full (i32.and (local.get $N) (i32.const -16)))
    ;; Full panels: 2 rows × 16 columns of accumulators.
    (block $panels_done
      (loop $panel
        (br_if $panels_done (i32.ge_u (local.get $n0) (local.get $full)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $c2 (v128.const i32x4 0 0 0 0)) (local.set $c3 (v128.const i32x4 0 0 0 0))
        (local.set $c4 (v128.const i32x4 0 0 0 0)) (local.set $c5 (v128.const i32x4 0 0 0 0))
        (local.set $c6 (v128.const i32x4 0 0 0 0)) (local.set $c7 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $w) (i32.shl (i32.mul (local.get $n0) (local.get $K)) (i32.const 2))))
        (local.set $xp (i32.const 0))
        (local.set $k (local.get $K))
        (loop $kl
          (local.set $a0 (v128.load32_splat (i32.add (local.get $x) (local.get $xp))))
          (local.set $a1 (v128.load32_splat (i32.add (local.get $x1) (local.get $xp))))
          (local.set $w0 (v128.load (local.get $p)))
          (local.set $w1 (v128.load offset=16 (local.get $p)))
          (local.set $w2 (v128.load offset=32 (local.get $p)))
          (local.set $w3 (v128.load offset=48 (local.get $p)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a0) (local.get $w0))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a0) (local.get $w1))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a0) (local.get $w2))))
          (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a0) (local.get $w3))))
          (local.set $c4 (f32x4.add (local.get $c4) (f32x4.mul (local.get $a1) (local.get $w0))))
          (local.set $c5 (f32x4.add (local.get $c5) (f32x4.mul (local.get $a1) (local.get $w1))))
          (local.set $c6 (f32x4.add (local.get $c6) (f32x4.mul (local.get $a1) (local.get $w2))))
          (local.set $c7 (f32x4.add (local.get $c7) (f32x4.mul (local.get $a1) (local.get $w3))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $kl (local.get $k)))
        (local.set $p (i32.add (local.get $y) (i32.shl (local.get $n0) (i32.const 2))))
        (v128.store (local.get $p) (local.get $c0))
        (v128.store offset=16 (local.get $p) (local.get $c1))
        (v128.store offset=32 (local.get $p) (local.get $c2))
        (v128.store offset=48 (local.get $p) (local.get $c3))
        (local.set $p (i32.add (local.get $y1) (i32.shl (local.get $n0) (i32.const 2))))
        (v128.store (local.get $p) (local.get $c4))
        (v128.store offset=16 (local.get $p) (local.get $c5))
        (v128.store offset=32 (local.get $p) (local.get $c6))
        (v128.store offset=48 (local.get $p) (local.get $c7))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 16)))
        (br $panel)))
    ;; Columns of the last, partial panel: one scalar sum per row and column (lane n0 - full of that panel).
    (block $cols_done
      (loop $col
        (br_if $cols_done (i32.ge_u (local.get $n0) (local.get $N)))
        (local.set $s0 (f32.const 0)) (local.set $s1 (f32.const 0))
        (local.set $p (i32.add (local.get $w)
          (i32.shl (i32.add (i32.mul (local.get $full) (local.get $K)) (i32.sub (local.get $n0) (local.get $full))) (i32.const 2))))
        (local.set $xp (i32.const 0))
        (local.set $k (local.get $K))
        (loop $kl2
          (local.set $ws (f32.load (local.get $p)))
          (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (i32.add (local.get $x) (local.get $xp))) (local.get $ws))))
          (local.set $s1 (f32.add (local.get $s1) (f32.mul (f32.load (i32.add (local.get $x1) (local.get $xp))) (local.get $ws))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $kl2 (local.get $k)))
        (f32.store (i32.add (local.get $y) (i32.shl (local.get $n0) (i32.const 2))) (local.get $s0))
        (f32.store (i32.add (local.get $y1) (i32.shl (local.get $n0) (i32.const 2))) (local.get $s1))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 1)))
        (br $col))))

  (func (export "rows1") (param $x i32) (param $w i32) (param $y i32) (param $K i32) (param $N i32)
    (local $n0 i32) (local $full i32) (local $p i32) (local $xp i32) (local $k i32)
    (local $a0 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $s0 f32)
    (local.set $full (i32.and (local.get $N) (i32.const -16)))
    (block $panels_done
      (loop $panel
        (br_if $panels_done (i32.ge_u (local.get $n0) (local.get $full)))
        (local.set $c0 (v128.const i32x4 0 0 0 0)) (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $c2 (v128.const i32x4 0 0 0 0)) (local.set $c3 (v128.const i32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $w) (i32.shl (i32.mul (local.get $n0) (local.get $K)) (i32.const 2))))
        (local.set $xp (local.get $x))
        (local.set $k (local.get $K))
        (loop $kl
          (local.set $a0 (v128.load32_splat (local.get $xp)))
          (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a0) (v128.load (local.get $p)))))
          (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a0) (v128.load offset=16 (local.get $p)))))
          (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a0) (v128.load offset=32 (local.get $p)))))
          (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a0) (v128.load offset=48 (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $kl (local.get $k)))
        (local.set $p (i32.add (local.get $y) (i32.shl (local.get $n0) (i32.const 2))))
        (v128.store (local.get $p) (local.get $c0))
        (v128.store offset=16 (local.get $p) (local.get $c1))
        (v128.store offset=32 (local.get $p) (local.get $c2))
        (v128.store offset=48 (local.get $p) (local.get $c3))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 16)))
        (br $panel)))
    (block $cols_done
      (loop $col
        (br_if $cols_done (i32.ge_u (local.get $n0) (local.get $N)))
        (local.set $s0 (f32.const 0))
        (local.set $p (i32.add (local.get $w)
          (i32.shl (i32.add (i32.mul (local.get $full) (local.get $K)) (i32.sub (local.get $n0) (local.get $full))) (i32.const 2))))
        (local.set $xp (local.get $x))
        (local.set $k (local.get $K))
        (loop $kl2
          (local.set $s0 (f32.add (local.get $s0) (f32.mul (f32.load (local.get $xp)) (f32.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $kl2 (local.get $k)))
        (f32.store (i32.add (local.get $y) (i32.shl (local.get $n0) (i32.const 2))) (local.get $s0))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 1)))
        (br $col))))
)
