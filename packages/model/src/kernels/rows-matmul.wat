;; Products against a panel-packed weight on the wasm backend's heap: decoding steps (one or two rows) and
;; prompts (many rows).
;;
;;   y[R, N] = x[R, K] · W[K, N]      (f32, row-major x and y; byte addresses)
;;
;; W arrives packed in panels of 16 columns: panel p holds W[k, 16p .. 16p+15] for k = 0 .. K-1,
;; contiguous (K·16 floats), the last panel zero-padded. Each panel is one sequential stream. Panels are the
;; outer loop and row pairs the inner one, so a panel (16 KB at K = 256) stays in L1 while every pair of rows
;; reads it, and both rows of a pair use every weight vector loaded (XNNPACK's path for 2-4 rows computes 4
;; rows). Sums run over k in order, one multiply then one add per term, as XNNPACK's f32 kernels do, so the
;; results equal the backend's product bit for bit. A 2×16 tile keeps 8 accumulators, 4 weight vectors and 2
;; splats in registers (x64 has 16 vector registers for wasm).
;; The x values enter as load-splats: x86 broadcasts from memory on a load port, where splatting a loaded
;; scalar takes a shuffle (measured: two rows 15-18% faster, one row the same).
;; `rows` computes the whole product; `panels` the columns of a range of panels, so that threads sharing the
;; heap (rows-helpers.ts) split a large product between them, each column summed as in the whole product.
(module
  (import "env" "memory" (memory 1))

  ;; Rows x0 and x1 times one full panel p: 16 sums each, stored at y0 and y1.
  (func $tile2 (param $x0 i32) (param $x1 i32) (param $p i32) (param $y0 i32) (param $y1 i32) (param $K i32)
    (local $xp i32) (local $k i32)
    (local $a0 v128) (local $a1 v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $k (local.get $K))
    (loop $kl
      (local.set $a0 (v128.load32_splat (i32.add (local.get $x0) (local.get $xp))))
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
    (v128.store (local.get $y0) (local.get $c0))
    (v128.store offset=16 (local.get $y0) (local.get $c1))
    (v128.store offset=32 (local.get $y0) (local.get $c2))
    (v128.store offset=48 (local.get $y0) (local.get $c3))
    (v128.store (local.get $y1) (local.get $c4))
    (v128.store offset=16 (local.get $y1) (local.get $c5))
    (v128.store offset=32 (local.get $y1) (local.get $c6))
    (v128.store offset=48 (local.get $y1) (local.get $c7)))

  ;; Row x0 times one full panel p: 16 sums stored at y0.
  (func $tile1 (param $x0 i32) (param $p i32) (param $y0 i32) (param $K i32)
    (local $k i32) (local $a0 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $k (local.get $K))
    (loop $kl
      (local.set $a0 (v128.load32_splat (local.get $x0)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a0) (v128.load (local.get $p)))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a0) (v128.load offset=16 (local.get $p)))))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a0) (v128.load offset=32 (local.get $p)))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a0) (v128.load offset=48 (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $kl (local.get $k)))
    (v128.store (local.get $y0) (local.get $c0))
    (v128.store offset=16 (local.get $y0) (local.get $c1))
    (v128.store offset=32 (local.get $y0) (local.get $c2))
    (v128.store offset=48 (local.get $y0) (local.get $c3)))

  ;; Row x0 times the last, partial panel p (zero-padded to 16 columns): the first `cols` (1 to 15) of its 16
  ;; sums, stored at y0 lane by lane (the row's end is there, so no whole vector is written).
  (func $tileTail (param $x0 i32) (param $p i32) (param $y0 i32) (param $K i32) (param $cols i32)
    (local $a0 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (loop $kl
      (local.set $a0 (v128.load32_splat (local.get $x0)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a0) (v128.load (local.get $p)))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a0) (v128.load offset=16 (local.get $p)))))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a0) (v128.load offset=32 (local.get $p)))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a0) (v128.load offset=48 (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (local.set $x0 (i32.add (local.get $x0) (i32.const 4)))
      (local.set $K (i32.sub (local.get $K) (i32.const 1)))
      (br_if $kl (local.get $K)))
    (block $done
      (f32.store offset=0 (local.get $y0) (f32x4.extract_lane 0 (local.get $c0)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 1)))
      (f32.store offset=4 (local.get $y0) (f32x4.extract_lane 1 (local.get $c0)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 2)))
      (f32.store offset=8 (local.get $y0) (f32x4.extract_lane 2 (local.get $c0)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 3)))
      (f32.store offset=12 (local.get $y0) (f32x4.extract_lane 3 (local.get $c0)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 4)))
      (f32.store offset=16 (local.get $y0) (f32x4.extract_lane 0 (local.get $c1)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 5)))
      (f32.store offset=20 (local.get $y0) (f32x4.extract_lane 1 (local.get $c1)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 6)))
      (f32.store offset=24 (local.get $y0) (f32x4.extract_lane 2 (local.get $c1)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 7)))
      (f32.store offset=28 (local.get $y0) (f32x4.extract_lane 3 (local.get $c1)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 8)))
      (f32.store offset=32 (local.get $y0) (f32x4.extract_lane 0 (local.get $c2)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 9)))
      (f32.store offset=36 (local.get $y0) (f32x4.extract_lane 1 (local.get $c2)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 10)))
      (f32.store offset=40 (local.get $y0) (f32x4.extract_lane 2 (local.get $c2)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 11)))
      (f32.store offset=44 (local.get $y0) (f32x4.extract_lane 3 (local.get $c2)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 12)))
      (f32.store offset=48 (local.get $y0) (f32x4.extract_lane 0 (local.get $c3)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 13)))
      (f32.store offset=52 (local.get $y0) (f32x4.extract_lane 1 (local.get $c3)))
      (br_if $done (i32.le_u (local.get $cols) (i32.const 14)))
      (f32.store offset=56 (local.get $y0) (f32x4.extract_lane 2 (local.get $c3)))))

  ;; The whole product.
  (func (export "rows") (param $x i32) (param $w i32) (param $y i32) (param $R i32) (param $K i32) (param $N i32)
    (call $panels (local.get $x) (local.get $w) (local.get $y) (local.get $R) (local.get $K) (local.get $N)
      (i32.const 0) (i32.shr_u (i32.add (local.get $N) (i32.const 15)) (i32.const 4))))

  ;; The product's columns of panels p0 .. p1-1 (every row): threads split a product by panels, each
  ;; writing its own columns of y, so the sums are those of the whole product.
  (func $panels (export "panels") (param $x i32) (param $w i32) (param $y i32) (param $R i32) (param $K i32) (param $N i32)
    (param $p0 i32) (param $p1 i32)
    (local $xStride i32) (local $yStride i32) (local $full i32) (local $end i32) (local $n0 i32) (local $p i32) (local $r i32)
    (local $xr i32) (local $yr i32)
    (local.set $xStride (i32.shl (local.get $K) (i32.const 2)))
    (local.set $yStride (i32.shl (local.get $N) (i32.const 2)))
    (local.set $full (i32.and (local.get $N) (i32.const -16)))
    (local.set $n0 (i32.shl (local.get $p0) (i32.const 4)))
    (local.set $end (i32.shl (local.get $p1) (i32.const 4)))
    (if (i32.gt_u (local.get $end) (local.get $full)) (then (local.set $end (local.get $full))))
    ;; Full panels: each read by every pair of rows, then by the odd row left over.
    (block $panels_done
      (loop $panel
        (br_if $panels_done (i32.ge_u (local.get $n0) (local.get $end)))
        (local.set $p (i32.add (local.get $w) (i32.shl (i32.mul (local.get $n0) (local.get $K)) (i32.const 2))))
        (local.set $xr (local.get $x))
        (local.set $yr (i32.add (local.get $y) (i32.shl (local.get $n0) (i32.const 2))))
        (local.set $r (local.get $R))
        (block $pairs_done
          (loop $pair
            (br_if $pairs_done (i32.lt_u (local.get $r) (i32.const 2)))
            (call $tile2 (local.get $xr) (i32.add (local.get $xr) (local.get $xStride)) (local.get $p)
              (local.get $yr) (i32.add (local.get $yr) (local.get $yStride)) (local.get $K))
            (local.set $xr (i32.add (local.get $xr) (i32.shl (local.get $xStride) (i32.const 1))))
            (local.set $yr (i32.add (local.get $yr) (i32.shl (local.get $yStride) (i32.const 1))))
            (local.set $r (i32.sub (local.get $r) (i32.const 2)))
            (br $pair)))
        (if (local.get $r) (then (call $tile1 (local.get $xr) (local.get $p) (local.get $yr) (local.get $K))))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 16)))
        (br $panel)))
    ;; The last, partial panel, when in range: its columns for every row, four lanes at a time as in the full panels.
    (if (i32.and (i32.lt_u (local.get $full) (local.get $N)) (i32.gt_u (i32.shl (local.get $p1) (i32.const 4)) (local.get $full))) (then
      (local.set $p (i32.add (local.get $w) (i32.shl (i32.mul (local.get $full) (local.get $K)) (i32.const 2))))
      (local.set $xr (local.get $x))
      (local.set $yr (i32.add (local.get $y) (i32.shl (local.get $full) (i32.const 2))))
      (local.set $r (local.get $R))
      (loop $row
        (call $tileTail (local.get $xr) (local.get $p) (local.get $yr) (local.get $K) (i32.sub (local.get $N) (local.get $full)))
        (local.set $xr (i32.add (local.get $xr) (local.get $xStride)))
        (local.set $yr (i32.add (local.get $yr) (local.get $yStride)))
        (local.set $r (i32.sub (local.get $r) (i32.const 1)))
        (br_if $row (local.get $r))))))
)
