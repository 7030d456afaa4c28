;; A matrix transposed, for the wasm backend's heap: out[c, r] = x[r, c].
;;
;; x [R, C], out [C, R]; byte addresses. Tiles of 4×4 go through registers (four row loads, eight shuffles,
;; four column stores); the rows and columns past the last full tile are copied one value at a time.
;; tfjs-wasm's Transpose took 0.85 ms for [1024, 128] and 14.5 ms for [1024, 1914] (28 µs and 0.43 ms
;; here; copying them takes 17 µs and 184 µs). Training's backward products transpose their saved operands
;; (activations of every row of the batch) once per product.
(module
  (import "env" "memory" (memory 1))

  (func (export "transpose") (param $x i32) (param $out i32) (param $R i32) (param $C i32)
    (local $r i32) (local $c i32) (local $R4 i32) (local $C4 i32) (local $rowBytes i32) (local $colBytes i32)
    (local $src i32) (local $dst i32) (local $c0 i32) (local $cEnd i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $R4 (i32.and (local.get $R) (i32.const -4)))
    (local.set $C4 (i32.and (local.get $C) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $colBytes (i32.shl (local.get $R) (i32.const 2)))
    ;; Full tiles, in blocks of 8 columns: for each block, every row quadruple in order, so each of the
    ;; block's 8 rows of out is written front to back. Rows of out lie R·4 bytes apart, which for power-of-two
    ;; R puts them in one cache set: [1024, 128] took 200 µs with tiles in row order (4 rows of out in turn,
    ;; each revisited R/4 times), 74 µs with blocks of 16 columns, 28 µs with 8, 39 µs with 4.
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_u (local.get $c0) (local.get $C4)))
        (local.set $cEnd (i32.add (local.get $c0) (i32.const 8)))
        (if (i32.gt_u (local.get $cEnd) (local.get $C4)) (then (local.set $cEnd (local.get $C4))))
        (local.set $r (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $r) (local.get $R4)))
            (local.set $c (local.get $c0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $c) (local.get $cEnd)))
                (local.set $src (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r) (local.get $C)) (local.get $c)) (i32.const 2))))
                (local.set $a0 (v128.load (local.get $src)))
                (local.set $a1 (v128.load (i32.add (local.get $src) (local.get $rowBytes))))
                (local.set $a2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 1)))))
                (local.set $a3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 3)))))
                ;; t0 = [a0.0 a1.0 a0.1 a1.1], t1 = [a0.2 a1.2 a0.3 a1.3], t2 and t3 the same for a2 and a3
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3)))
                (local.set $dst (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r)) (i32.const 2))))
                ;; column c+j of the tile: [a0.j a1.j a2.j a3.j]
                (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $dst) (local.get $colBytes)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $dst) (i32.shl (local.get $colBytes) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (v128.store (i32.add (local.get $dst) (i32.mul (local.get $colBytes) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $cols)))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $rows)))
        (local.set $c0 (local.get $cEnd))
        (br $blocks)))
    ;; The columns past the last full tile, for the rows of full tiles.
    (local.set $c (local.get $C4))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $c) (local.get $C)))
        (call $column (local.get $x) (local.get $out) (local.get $R) (local.get $C) (i32.const 0) (local.get $R4) (local.get $c))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $tail)))
    ;; The rows past the last full tile, every column.
    (local.set $c (i32.const 0))
    (block $last_done
      (loop $last
        (br_if $last_done (i32.ge_u (local.get $c) (local.get $C)))
        (call $column (local.get $x) (local.get $out) (local.get $R) (local.get $C) (local.get $R4) (local.get $R) (local.get $c))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $last))))

  ;; out[c, r] = x[r, c] for rows r0 .. r1-1 of column c.
  (func $column (param $x i32) (param $out i32) (param $R i32) (param $C i32) (param $r0 i32) (param $r1 i32) (param $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r0) (local.get $r1)))
        (i32.store
          (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $R)) (local.get $r0)) (i32.const 2)))
          (i32.load (i32.add (local.get $x) (i32.shl (i32.add (i32.mul (local.get $r0) (local.get $C)) (local.get $c)) (i32.const 2)))))
        (local.set $r0 (i32.add (local.get $r0) (i32.const 1)))
        (br $next))))
)
