;; Attention for decoding steps (one query token per row) on the wasm backend, against the KV cache:
;;
;;   out[b, h, :] = softmax_t(scale · q[b, h, :]·k[b, h/g, t, :] + bias[b, t]) · v[b, h/g, t, :]
;;
;; q [B, H, hd], k [B, kvH, T, hd], vT [B, kvH, hd, T] (values transposed, the cache's layout), bias [B, T]
;; (0 or a large negative number), out [B, H, hd]; H = kvH·g (grouped-query heads); f32, byte addresses;
;; hd a multiple of 4. scratch holds g·T floats. One pass replaces the scale, two broadcast products, two
;; reductions, the mask add and the softmax (each a tfjs op over a g-times-larger intermediate).
(module
  (import "env" "memory" (memory 1))

  ;; Σ a[i]·b[i] over n floats: four lanes, then the remainder one at a time.
  (func $dot (param $a i32) (param $b i32) (param $n i32) (result f32)
    (local $acc v128) (local $end i32) (local $s f32)
    (local.set $end (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $next)))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $tail)))
    (local.get $s))

  ;; The four dot products q·k[t], q·k[t+1], q·k[t+2], q·k[t+3] (rows kStep bytes apart, hd floats each, hd a
;; positive multiple of 4) as one vector: four accumulators, then their lanes summed pairwise across the four.
  (func $dot4 (param $q i32) (param $k i32) (param $hd i32) (param $kStep i32) (result v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $qv v128) (local $end i32)
    (local $k1 i32) (local $k2 i32) (local $k3 i32) (local $x v128) (local $y v128)
    (local.set $k1 (i32.add (local.get $k) (local.get $kStep)))
    (local.set $k2 (i32.add (local.get $k1) (local.get $kStep)))
    (local.set $k3 (i32.add (local.get $k2) (local.get $kStep)))
    (local.set $end (i32.add (local.get $q) (i32.shl (local.get $hd) (i32.const 2))))
    (loop $next
      (local.set $qv (v128.load (local.get $q)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $qv) (v128.load (local.get $k)))))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $qv) (v128.load (local.get $k1)))))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $qv) (v128.load (local.get $k2)))))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $qv) (v128.load (local.get $k3)))))
      (local.set $q (i32.add (local.get $q) (i32.const 16)))
      (local.set $k (i32.add (local.get $k) (i32.const 16)))
      (local.set $k1 (i32.add (local.get $k1) (i32.const 16)))
      (local.set $k2 (i32.add (local.get $k2) (i32.const 16)))
      (local.set $k3 (i32.add (local.get $k3) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $q) (local.get $end))))
    ;; [a0₀+a0₂, a1₀+a1₂, a0₁+a0₃, a1₁+a1₃] and the same for a2, a3; then [Σa0, Σa1, Σa2, Σa3]
    (local.set $x (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1))))
    (local.set $y (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3))))
    (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $x) (local.get $y))
               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $x) (local.get $y))))

;; exp(x) per lane for x <= 0 (Cephes expf: x = n·ln2 + r, e^r = 1 + r + r²·P(r), 2^n into the exponent
  ;; bits); below -87.3 the result is exactly 0, as a masked position's probability is.
  (func $exp (param $x v128) (result v128)
    (local $c v128) (local $t v128) (local $n v128) (local $p v128)
    (local.set $c (f32x4.pmax (local.get $x) (v128.const f32x4 -87.33 -87.33 -87.33 -87.33)))
    (local.set $t (f32x4.add (f32x4.mul (local.get $c) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $n (f32x4.sub (local.get $t) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $c (f32x4.sub (f32x4.sub (local.get $c) (f32x4.mul (local.get $n) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $n) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $c)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $c)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $c)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $c)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $c)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $c)) (local.get $c)) (local.get $c)) (v128.const f32x4 1 1 1 1)))
    (local.set $p (f32x4.mul (local.get $p) (i32x4.shl (i32x4.sub (local.get $t) (v128.const i32x4 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81)) (i32.const 23))))
    (v128.and (local.get $p) (f32x4.ge (local.get $x) (v128.const f32x4 -87.33 -87.33 -87.33 -87.33))))

  ;; row[t] = exp(row[t] - m) for t < T; returns Σ row[t].
  (func $expShiftSum (param $row i32) (param $T i32) (param $m f32) (result f32)
    (local $end i32) (local $sum v128) (local $e v128) (local $s f32)
    (local.set $end (i32.add (local.get $row) (i32.shl (i32.and (local.get $T) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $row) (local.get $end)))
        (local.set $e (call $exp (f32x4.sub (v128.load (local.get $row)) (f32x4.splat (local.get $m)))))
        (v128.store (local.get $row) (local.get $e))
        (local.set $sum (f32x4.add (local.get $sum) (local.get $e)))
        (local.set $row (i32.add (local.get $row) (i32.const 16)))
        (br $next)))
    (local.set $s (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $sum)) (f32x4.extract_lane 1 (local.get $sum)))
      (f32.add (f32x4.extract_lane 2 (local.get $sum)) (f32x4.extract_lane 3 (local.get $sum)))))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $T) (i32.const 3)) (i32.const 2))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $row) (local.get $end)))
        (f32.store (local.get $row) (f32x4.extract_lane 0 (call $exp (f32x4.splat (f32.sub (f32.load (local.get $row)) (local.get $m))))))
        (local.set $s (f32.add (local.get $s) (f32.load (local.get $row))))
        (local.set $row (i32.add (local.get $row) (i32.const 4)))
        (br $tail)))
    (local.get $s))

  (func (export "attend") (param $q i32) (param $k i32) (param $vT i32) (param $bias i32) (param $out i32) (param $scratch i32)
      (param $B i32) (param $kvH i32) (param $g i32) (param $T i32) (param $hd i32) (param $scale f32)
    (local $b i32) (local $h i32) (local $j i32) (local $t i32) (local $d i32)
    (local $kBase i32) (local $vBase i32) (local $qj i32) (local $row i32) (local $oj i32) (local $biasRow i32)
    (local $s f32) (local $m f32) (local $inv f32) (local $rowBytes i32) (local $kStep i32) (local $sv v128) (local $mv v128) (local $bulk i32) (local $vd i32) (local $tail i32)
    (local.set $rowBytes (i32.shl (local.get $T) (i32.const 2)))
    (local.set $kStep (i32.shl (local.get $hd) (i32.const 2)))
    (local.set $b (i32.const 0))
    (loop $per_b
      (local.set $biasRow (i32.add (local.get $bias) (i32.mul (local.get $b) (local.get $rowBytes))))
      (local.set $h (i32.const 0))
      (loop $per_h
        ;; this (batch, kv head)'s keys [T, hd] and transposed values [hd, T]
        (local.set $kBase (i32.add (local.get $k) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $kvH)) (local.get $h)) (i32.mul (local.get $T) (local.get $kStep)))))
        (local.set $vBase (i32.add (local.get $vT) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $kvH)) (local.get $h)) (i32.mul (local.get $T) (local.get $kStep)))))
        (local.set $j (i32.const 0))
        (loop $per_j
          ;; query head (b, h·g + j)
          (local.set $qj (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $kvH)) (local.get $h)) (local.get $g)) (local.get $j)) (local.get $kStep)))
          (local.set $oj (i32.add (local.get $out) (local.get $qj)))
          (local.set $qj (i32.add (local.get $q) (local.get $qj)))
          (local.set $row (i32.add (local.get $scratch) (i32.mul (local.get $j) (local.get $rowBytes))))
          ;; scores and their maximum: four keys at a time, then the remainder one by one
          (local.set $mv (v128.const f32x4 -inf -inf -inf -inf))
          (local.set $t (i32.const 0))
          (block $quads_done
            (loop $quad
              (br_if $quads_done (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $T)))
              (local.set $sv (f32x4.add
                (f32x4.mul (call $dot4 (local.get $qj) (i32.add (local.get $kBase) (i32.mul (local.get $t) (local.get $kStep))) (local.get $hd) (local.get $kStep)) (f32x4.splat (local.get $scale)))
                (v128.load (i32.add (local.get $biasRow) (i32.shl (local.get $t) (i32.const 2))))))
              (v128.store (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 2))) (local.get $sv))
              (local.set $mv (f32x4.max (local.get $mv) (local.get $sv)))
              (local.set $t (i32.add (local.get $t) (i32.const 4)))
              (br $quad)))
          (local.set $m (f32.max
            (f32.max (f32x4.extract_lane 0 (local.get $mv)) (f32x4.extract_lane 1 (local.get $mv)))
            (f32.max (f32x4.extract_lane 2 (local.get $mv)) (f32x4.extract_lane 3 (local.get $mv)))))
          (block $tail_done
            (loop $per_t
              (br_if $tail_done (i32.ge_u (local.get $t) (local.get $T)))
              (local.set $s (f32.add
                (f32.mul (call $dot (local.get $qj) (i32.add (local.get $kBase) (i32.mul (local.get $t) (local.get $kStep))) (local.get $hd)) (local.get $scale))
                (f32.load (i32.add (local.get $biasRow) (i32.shl (local.get $t) (i32.const 2))))))
              (f32.store (i32.add (local.get $row) (i32.shl (local.get $t) (i32.const 2))) (local.get $s))
              (local.set $m (f32.max (local.get $m) (local.get $s)))
              (local.set $t (i32.add (local.get $t) (i32.const 1)))
              (br $per_t)))
          ;; probabilities (unnormalised), then each output dimension as a product with a value row
          (local.set $inv (f32.div (f32.const 1) (call $expShiftSum (local.get $row) (local.get $T) (local.get $m))))
          ;; four output dimensions at a time (hd is a multiple of 4): the probabilities' whole vectors against
          ;; four value rows, then each row's remainder
          (local.set $bulk (i32.and (local.get $T) (i32.const -4)))
          (local.set $d (i32.const 0))
          (loop $per_d
            (local.set $vd (i32.add (local.get $vBase) (i32.mul (local.get $d) (local.get $rowBytes))))
            (local.set $sv (v128.const f32x4 0 0 0 0))
            (if (local.get $bulk) (then (local.set $sv (call $dot4 (local.get $row) (local.get $vd) (local.get $bulk) (local.get $rowBytes)))))
            (if (i32.and (local.get $T) (i32.const 3)) (then
              (local.set $tail (i32.shl (local.get $bulk) (i32.const 2)))
              (local.set $sv (f32x4.add (local.get $sv) (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1 (f32x4.splat
                (call $dot (i32.add (local.get $row) (local.get $tail)) (i32.add (local.get $vd) (local.get $tail)) (i32.and (local.get $T) (i32.const 3))))
                (call $dot (i32.add (local.get $row) (local.get $tail)) (i32.add (i32.add (local.get $vd) (local.get $rowBytes)) (local.get $tail)) (i32.and (local.get $T) (i32.const 3))))
                (call $dot (i32.add (local.get $row) (local.get $tail)) (i32.add (i32.add (local.get $vd) (i32.shl (local.get $rowBytes) (i32.const 1))) (local.get $tail)) (i32.and (local.get $T) (i32.const 3))))
                (call $dot (i32.add (local.get $row) (local.get $tail)) (i32.add (i32.add (local.get $vd) (i32.mul (local.get $rowBytes) (i32.const 3))) (local.get $tail)) (i32.and (local.get $T) (i32.const 3))))))))
            (v128.store (i32.add (local.get $oj) (i32.shl (local.get $d) (i32.const 2))) (f32x4.mul (local.get $sv) (f32x4.splat (local.get $inv))))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br_if $per_d (i32.lt_u (local.get $d) (local.get $hd))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $per_j (i32.lt_u (local.get $j) (local.get $g))))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br_if $per_h (i32.lt_u (local.get $h) (local.get $kvH))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $per_b (i32.lt_u (local.get $b) (local.get $B)))))
)
