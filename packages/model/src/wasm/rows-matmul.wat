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
;; heap (rows-helpers.ts) split a large product between them, each column summed as in the whole product;
;; `chunked` the whole product from the plain row-major weight, for weights with no packed copy: a few
;; panels at a time packed into a scratch that stays in L2, then the same tiles, so the same sums.
(module
  (import "env" "memory" (memory 1))

  ;; Rows x0 and x1 times one full panel p: 16 sums each, stored at y0 and y1.
  (func $tile2 (param $x0 i32) (param $x1 i32) (param $p i32) (param $y0 i32) (param $y1 i32) (param $K i32) (param $step i32)
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
      (local.set $p (i32.add (local.get $p) (local.get $step)))
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
  (func $tile1 (param $x0 i32) (param $p i32) (param $y0 i32) (param $K i32) (param $step i32)
    (local $k i32) (local $a0 v128) (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $k (local.get $K))
    (loop $kl
      (local.set $a0 (v128.load32_splat (local.get $x0)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a0) (v128.load (local.get $p)))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a0) (v128.load offset=16 (local.get $p)))))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a0) (v128.load offset=32 (local.get $p)))))
      (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a0) (v128.load offset=48 (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (local.get $step)))
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
    (local $xStride i32) (local $yStride i32) (local $full i32) (local $p i32) (local $r i32) (local $xr i32) (local $yr i32)
    (call $fullPanels (local.get $x) (local.get $w) (local.get $y) (local.get $R) (local.get $K) (local.get $N)
      (local.get $p0) (local.get $p1) (i32.shl (local.get $K) (i32.const 6)) (i32.const 64))
    (local.set $xStride (i32.shl (local.get $K) (i32.const 2)))
    (local.set $yStride (i32.shl (local.get $N) (i32.const 2)))
    (local.set $full (i32.and (local.get $N) (i32.const -16)))
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

  ;; The full panels among p0 .. p1-1, every row: panel p starts at w + p·panelBytes and its rows of 16
  ;; weights are `step` bytes apart (packed: K·64 and 64; a plain [K, N] weight: 64 and N·4). Panels are the
  ;; outer loop and pairs of rows the inner one, then the odd row left over.
  (func $fullPanels (param $x i32) (param $w i32) (param $y i32) (param $R i32) (param $K i32) (param $N i32)
    (param $p0 i32) (param $p1 i32) (param $panelBytes i32) (param $step i32)
    (local $xStride i32) (local $yStride i32) (local $end i32) (local $n0 i32) (local $p i32) (local $r i32)
    (local $xr i32) (local $yr i32)
    (local.set $xStride (i32.shl (local.get $K) (i32.const 2)))
    (local.set $yStride (i32.shl (local.get $N) (i32.const 2)))
    (local.set $n0 (i32.shl (local.get $p0) (i32.const 4)))
    (local.set $end (i32.shl (local.get $p1) (i32.const 4)))
    (if (i32.gt_u (local.get $end) (i32.and (local.get $N) (i32.const -16))) (then (local.set $end (i32.and (local.get $N) (i32.const -16)))))
    (local.set $p (i32.add (local.get $w) (i32.mul (local.get $p0) (local.get $panelBytes))))
    (block $panels_done
      (loop $panel
        (br_if $panels_done (i32.ge_u (local.get $n0) (local.get $end)))
        (local.set $xr (local.get $x))
        (local.set $yr (i32.add (local.get $y) (i32.shl (local.get $n0) (i32.const 2))))
        (local.set $r (local.get $R))
        (block $pairs_done
          (loop $pair
            (br_if $pairs_done (i32.lt_u (local.get $r) (i32.const 2)))
            (call $tile2 (local.get $xr) (i32.add (local.get $xr) (local.get $xStride)) (local.get $p)
              (local.get $yr) (i32.add (local.get $yr) (local.get $yStride)) (local.get $K) (local.get $step))
            (local.set $xr (i32.add (local.get $xr) (i32.shl (local.get $xStride) (i32.const 1))))
            (local.set $yr (i32.add (local.get $yr) (i32.shl (local.get $yStride) (i32.const 1))))
            (local.set $r (i32.sub (local.get $r) (i32.const 2)))
            (br $pair)))
        (if (local.get $r) (then (call $tile1 (local.get $xr) (local.get $p) (local.get $yr) (local.get $K) (local.get $step))))
        (local.set $p (i32.add (local.get $p) (local.get $panelBytes)))
        (local.set $n0 (i32.add (local.get $n0) (i32.const 16)))
        (br $panel))))

  ;; Full panels g0 .. g1-1 of a plain row-major weight W [K, N] packed at dst: row k of panel p (64 bytes at
  ;; W[k, 16p]) to dst + (p - g0)·K·64 + k·64.
  (func $packFull (param $w i32) (param $dst0 i32) (param $K i32) (param $N i32) (param $g0 i32) (param $g1 i32)
    (local $k i32) (local $src i32) (local $dst i32) (local $end i32) (local $panelBytes i32) (local $rowBytes i32)
    (if (i32.ge_u (local.get $g0) (local.get $g1)) (then (return)))
    (local.set $panelBytes (i32.shl (local.get $K) (i32.const 6)))
    (local.set $rowBytes (i32.shl (local.get $N) (i32.const 2)))
    (loop $pack
      (local.set $src (i32.add (i32.add (local.get $w) (i32.mul (local.get $k) (local.get $rowBytes))) (i32.shl (local.get $g0) (i32.const 6))))
      (local.set $end (i32.add (local.get $src) (i32.shl (i32.sub (local.get $g1) (local.get $g0)) (i32.const 6))))
      (local.set $dst (i32.add (local.get $dst0) (i32.shl (local.get $k) (i32.const 6))))
      (loop $copy
        (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $src)))
        (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
        (v128.store offset=32 (local.get $dst) (v128.load offset=32 (local.get $src)))
        (v128.store offset=48 (local.get $dst) (v128.load offset=48 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 64)))
        (local.set $dst (i32.add (local.get $dst) (local.get $panelBytes)))
        (br_if $copy (i32.lt_u (local.get $src) (local.get $end))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $pack (i32.lt_u (local.get $k) (local.get $K)))))

  ;; The whole weight W [K, N] packed at dst for `rows` (ceil(N/16)·K·16 floats): the full panels 16 at a time
  ;; (a kilobyte of each row read in one run, 16 panels written in order; all panels at once write each row's
  ;; 64 bytes K·64 bytes apart: 1.8× the time at 512 × 32000), then the last N mod 16 columns with zeros after
  ;; them in each of the last panel's rows.
  (func (export "pack") (param $w i32) (param $dst i32) (param $K i32) (param $N i32)
    (local $full i32) (local $cols i32) (local $k i32) (local $c i32) (local $src i32) (local $row i32) (local $g0 i32) (local $g1 i32)
    (local.set $full (i32.shr_u (local.get $N) (i32.const 4)))
    (block $groups_done
      (loop $group
        (br_if $groups_done (i32.ge_u (local.get $g0) (local.get $full)))
        (local.set $g1 (i32.add (local.get $g0) (i32.const 16)))
        (if (i32.gt_u (local.get $g1) (local.get $full)) (then (local.set $g1 (local.get $full))))
        (call $packFull (local.get $w) (i32.add (local.get $dst) (i32.mul (local.get $g0) (i32.shl (local.get $K) (i32.const 6))))
          (local.get $K) (local.get $N) (local.get $g0) (local.get $g1))
        (local.set $g0 (local.get $g1))
        (br $group)))
    (local.set $cols (i32.and (local.get $N) (i32.const 15)))
    (if (i32.eqz (local.get $cols)) (then (return)))
    (loop $rowl
      (local.set $src (i32.add (local.get $w) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $N)) (i32.shl (local.get $full) (i32.const 4))) (i32.const 2))))
      (local.set $row (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $full) (local.get $K)) (local.get $k)) (i32.const 6))))
      ;; The row's values (W is not read past its own columns), then the zeros.
      (local.set $c (i32.const 0))
      (loop $coll
        (f32.store (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2))) (f32.load (i32.add (local.get $src) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $coll (i32.lt_u (local.get $c) (local.get $cols))))
      (loop $zero
        (f32.store (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2))) (f32.const 0))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br_if $zero (i32.lt_u (local.get $c) (i32.const 16))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $rowl (i32.lt_u (local.get $k) (local.get $K)))))

  ;; The whole product with a plain row-major weight W [K, N], packing G full panels at a time into the
  ;; scratch at `scratch` (G·K·64 bytes, sized by the caller to stay in L2: W's rows are read G·64 bytes at
  ;; a time) and running the tiles over them, then the last N mod 16 columns one term at a time (a float32
  ;; multiply then add, as the vector lanes do). The same sums as `rows` over a packed copy.
  (func (export "chunked") (param $x i32) (param $w i32) (param $y i32) (param $R i32) (param $K i32) (param $N i32)
    (param $scratch i32) (param $G i32)
    (local $full i32) (local $g0 i32) (local $g1 i32) (local $k i32)
    (local $panelBytes i32) (local $rowBytes i32) (local $c i32) (local $r i32) (local $xr i32) (local $wc i32) (local $acc f32)
    (local.set $full (i32.shr_u (local.get $N) (i32.const 4)))
    (local.set $panelBytes (i32.shl (local.get $K) (i32.const 6)))
    (local.set $rowBytes (i32.shl (local.get $N) (i32.const 2)))
    (block $groups_done
      (loop $group
        (br_if $groups_done (i32.ge_u (local.get $g0) (local.get $full)))
        (local.set $g1 (i32.add (local.get $g0) (local.get $G)))
        (if (i32.gt_u (local.get $g1) (local.get $full)) (then (local.set $g1 (local.get $full))))
        (call $packFull (local.get $w) (local.get $scratch) (local.get $K) (local.get $N) (local.get $g0) (local.get $g1))
        ;; the tiles: panel p at scratch + (p - g0)·K·64 (the base wraps below 0 and back, as i32 arithmetic does)
        (call $fullPanels (local.get $x) (i32.sub (local.get $scratch) (i32.mul (local.get $g0) (local.get $panelBytes)))
          (local.get $y) (local.get $R) (local.get $K) (local.get $N) (local.get $g0) (local.get $g1) (local.get $panelBytes) (i32.const 64))
        (local.set $g0 (local.get $g1))
        (br $group)))
    ;; the last N mod 16 columns
    (local.set $c (i32.shl (local.get $full) (i32.const 4)))
    (block $cols_done
      (loop $col
        (br_if $cols_done (i32.ge_u (local.get $c) (local.get $N)))
        (local.set $r (i32.const 0))
        (loop $row
          (local.set $acc (f32.const 0))
          (local.set $xr (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $K)) (i32.const 2))))
          (local.set $wc (i32.add (local.get $w) (i32.shl (local.get $c) (i32.const 2))))
          (local.set $k (local.get $K))
          (loop $kl
            (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load (local.get $xr)) (f32.load (local.get $wc)))))
            (local.set $xr (i32.add (local.get $xr) (i32.const 4)))
            (local.set $wc (i32.add (local.get $wc) (local.get $rowBytes)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br_if $kl (local.get $k)))
          (f32.store (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $N)) (local.get $c)) (i32.const 2))) (local.get $acc))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $row (i32.lt_u (local.get $r) (local.get $R))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $col))))

  ;; Rows x0 and x1 (x0 alone when $two is 0) times a plain row-major weight W [K, N], streaming W's rows: for
  ;; blocks of 32768 columns (128 KB of each output row, in L2; longer runs of each weight row stream faster
  ;; from memory than L1-sized ones: measured), y[c] += x[k]·W[k, c] over k in order, four
  ;; weight rows a pass (each sum gets its four terms in order, so one load and store of y per four), then the
  ;; last N mod 4 columns one term at a time. Each sum runs over k in order, one multiply then one add, as in
  ;; the tiles.
  (func $streamRows (param $x0 i32) (param $x1 i32) (param $w i32) (param $y0 i32) (param $y1 i32) (param $K i32) (param $N i32) (param $two i32)
    (local $c0 i32) (local $c1 i32) (local $vecEnd i32) (local $k i32) (local $o i32) (local $oEnd i32) (local $oStart i32)
    (local $rowBytes i32) (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $xk i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $acc0 f32) (local $acc1 f32) (local $wp i32)
    (local.set $rowBytes (i32.shl (local.get $N) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $N) (i32.const -4)))
    (if (i32.eqz (local.get $two)) (then (local.set $x1 (local.get $x0)) (local.set $y1 (local.get $y0))))
    (block $blocks_done
      (loop $block
        (br_if $blocks_done (i32.ge_u (local.get $c0) (local.get $vecEnd)))
        (local.set $c1 (i32.add (local.get $c0) (i32.const 32768)))
        (if (i32.gt_u (local.get $c1) (local.get $vecEnd)) (then (local.set $c1 (local.get $vecEnd))))
        (local.set $oStart (i32.shl (local.get $c0) (i32.const 2)))
        (local.set $oEnd (i32.shl (local.get $c1) (i32.const 2)))
        (local.set $o (local.get $oStart))
        (loop $zero
          (v128.store (i32.add (local.get $y0) (local.get $o)) (v128.const i32x4 0 0 0 0))
          (v128.store (i32.add (local.get $y1) (local.get $o)) (v128.const i32x4 0 0 0 0))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $zero (i32.lt_u (local.get $o) (local.get $oEnd))))
        (local.set $k (i32.const 0))
        ;; four weight rows a pass: w0..w3 are row k..k+3 of W, offset so that column c is at wj + 4c
        (block $quads_done
          (loop $quad
            (br_if $quads_done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
            (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $k) (local.get $rowBytes))))
            (local.set $w1 (i32.add (local.get $w0) (local.get $rowBytes)))
            (local.set $w2 (i32.add (local.get $w1) (local.get $rowBytes)))
            (local.set $w3 (i32.add (local.get $w2) (local.get $rowBytes)))
            (local.set $xk (i32.shl (local.get $k) (i32.const 2)))
            (local.set $a0 (v128.load32_splat offset=0 (i32.add (local.get $x0) (local.get $xk))))
            (local.set $a1 (v128.load32_splat offset=4 (i32.add (local.get $x0) (local.get $xk))))
            (local.set $a2 (v128.load32_splat offset=8 (i32.add (local.get $x0) (local.get $xk))))
            (local.set $a3 (v128.load32_splat offset=12 (i32.add (local.get $x0) (local.get $xk))))
            (local.set $b0 (v128.load32_splat offset=0 (i32.add (local.get $x1) (local.get $xk))))
            (local.set $b1 (v128.load32_splat offset=4 (i32.add (local.get $x1) (local.get $xk))))
            (local.set $b2 (v128.load32_splat offset=8 (i32.add (local.get $x1) (local.get $xk))))
            (local.set $b3 (v128.load32_splat offset=12 (i32.add (local.get $x1) (local.get $xk))))
            (local.set $o (local.get $oStart))
            (if (local.get $two)
              (then
                (loop $c2
                  (local.set $v0 (v128.load (i32.add (local.get $w0) (local.get $o))))
                  (local.set $v1 (v128.load (i32.add (local.get $w1) (local.get $o))))
                  (local.set $v2 (v128.load (i32.add (local.get $w2) (local.get $o))))
                  (local.set $v3 (v128.load (i32.add (local.get $w3) (local.get $o))))
                  (v128.store (i32.add (local.get $y0) (local.get $o))
                    (f32x4.add (f32x4.add (f32x4.add (f32x4.add (v128.load (i32.add (local.get $y0) (local.get $o)))
                      (f32x4.mul (local.get $a0) (local.get $v0))) (f32x4.mul (local.get $a1) (local.get $v1)))
                      (f32x4.mul (local.get $a2) (local.get $v2))) (f32x4.mul (local.get $a3) (local.get $v3))))
                  (v128.store (i32.add (local.get $y1) (local.get $o))
                    (f32x4.add (f32x4.add (f32x4.add (f32x4.add (v128.load (i32.add (local.get $y1) (local.get $o)))
                      (f32x4.mul (local.get $b0) (local.get $v0))) (f32x4.mul (local.get $b1) (local.get $v1)))
                      (f32x4.mul (local.get $b2) (local.get $v2))) (f32x4.mul (local.get $b3) (local.get $v3))))
                  (local.set $o (i32.add (local.get $o) (i32.const 16)))
                  (br_if $c2 (i32.lt_u (local.get $o) (local.get $oEnd)))))
              (else
                (loop $c1l
                  (v128.store (i32.add (local.get $y0) (local.get $o))
                    (f32x4.add (f32x4.add (f32x4.add (f32x4.add (v128.load (i32.add (local.get $y0) (local.get $o)))
                      (f32x4.mul (local.get $a0) (v128.load (i32.add (local.get $w0) (local.get $o)))))
                      (f32x4.mul (local.get $a1) (v128.load (i32.add (local.get $w1) (local.get $o)))))
                      (f32x4.mul (local.get $a2) (v128.load (i32.add (local.get $w2) (local.get $o)))))
                      (f32x4.mul (local.get $a3) (v128.load (i32.add (local.get $w3) (local.get $o))))))
                  (local.set $o (i32.add (local.get $o) (i32.const 16)))
                  (br_if $c1l (i32.lt_u (local.get $o) (local.get $oEnd))))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $quad)))
        ;; the last K mod 4 weight rows, one a pass
        (block $singles_done
          (loop $single
            (br_if $singles_done (i32.ge_u (local.get $k) (local.get $K)))
            (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $k) (local.get $rowBytes))))
            (local.set $a0 (v128.load32_splat (i32.add (local.get $x0) (i32.shl (local.get $k) (i32.const 2)))))
            (local.set $b0 (v128.load32_splat (i32.add (local.get $x1) (i32.shl (local.get $k) (i32.const 2)))))
            (local.set $o (local.get $oStart))
            (loop $cs
              (local.set $v0 (v128.load (i32.add (local.get $w0) (local.get $o))))
              (v128.store (i32.add (local.get $y0) (local.get $o))
                (f32x4.add (v128.load (i32.add (local.get $y0) (local.get $o))) (f32x4.mul (local.get $a0) (local.get $v0))))
              (if (local.get $two) (then
                (v128.store (i32.add (local.get $y1) (local.get $o))
                  (f32x4.add (v128.load (i32.add (local.get $y1) (local.get $o))) (f32x4.mul (local.get $b0) (local.get $v0))))))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br_if $cs (i32.lt_u (local.get $o) (local.get $oEnd))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $single)))
        (local.set $c0 (local.get $c1))
        (br $block)))
    ;; the last N mod 4 columns
    (local.set $c0 (local.get $vecEnd))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $c0) (local.get $N)))
        (local.set $acc0 (f32.const 0))
        (local.set $acc1 (f32.const 0))
        (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $c0) (i32.const 2))))
        (local.set $k (i32.const 0))
        (loop $kt
          (local.set $acc0 (f32.add (local.get $acc0) (f32.mul (f32.load (i32.add (local.get $x0) (i32.shl (local.get $k) (i32.const 2)))) (f32.load (local.get $wp)))))
          (local.set $acc1 (f32.add (local.get $acc1) (f32.mul (f32.load (i32.add (local.get $x1) (i32.shl (local.get $k) (i32.const 2)))) (f32.load (local.get $wp)))))
          (local.set $wp (i32.add (local.get $wp) (local.get $rowBytes)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $kt (i32.lt_u (local.get $k) (local.get $K))))
        (f32.store (i32.add (local.get $y1) (i32.shl (local.get $c0) (i32.const 2))) (local.get $acc1))
        (f32.store (i32.add (local.get $y0) (i32.shl (local.get $c0) (i32.const 2))) (local.get $acc0))
        (local.set $c0 (i32.add (local.get $c0) (i32.const 1)))
        (br $tail))))

  ;; The whole product with a plain weight, rows in pairs, each pair streaming the weight once (decoding's
  ;; one or two rows; for many rows, `chunked` reads the weight once for all of them).
  (func (export "stream") (param $x i32) (param $w i32) (param $y i32) (param $R i32) (param $K i32) (param $N i32)
    (local $xStride i32) (local $yStride i32)
    (local.set $xStride (i32.shl (local.get $K) (i32.const 2)))
    (local.set $yStride (i32.shl (local.get $N) (i32.const 2)))
    (block $done
      (loop $pair
        (br_if $done (i32.lt_u (local.get $R) (i32.const 2)))
        (call $streamRows (local.get $x) (i32.add (local.get $x) (local.get $xStride)) (local.get $w)
          (local.get $y) (i32.add (local.get $y) (local.get $yStride)) (local.get $K) (local.get $N) (i32.const 1))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $xStride) (i32.const 1))))
        (local.set $y (i32.add (local.get $y) (i32.shl (local.get $yStride) (i32.const 1))))
        (local.set $R (i32.sub (local.get $R) (i32.const 2)))
        (br $pair)))
    (if (local.get $R) (then
      (call $streamRows (local.get $x) (local.get $x) (local.get $w) (local.get $y) (local.get $y) (local.get $K) (local.get $N) (i32.const 0)))))
)
