;; Float64 exp(src[i] - shift) over an array, bit for bit what V8's Math.exp returns, two lanes at a time.
;; Math.exp is fdlibm's exp (V8's base/ieee754.cc), a fixed sequence of IEEE double operations; this module
;; runs the same sequence for the main range 1.5·ln2 <= |x| <= 708, where fdlibm reduces x = k·ln2 + r with
;; k = trunc(x/ln2 ± 1/2) and no special case applies:
;;   hi = x − k·ln2hi,  lo = k·ln2lo,  r = hi − lo,  t = r²
;;   c = r − t·(P1 + t·(P2 + t·(P3 + t·(P4 + t·P5))))
;;   exp(x) = (1 − ((lo − r·c/(2 − c)) − hi)) · 2^k
;; Two pairs per iteration: their chains of dependent operations overlap (27 µs for 8,000 values against 36).
;; x = −∞ gives +0. Other lanes (|x| < 1.5·ln2: the few tokens near the top score; |x| > 708, +∞, NaN) are
;; listed in `odd` for the caller to compute with Math.exp. Byte addresses; n counts elements (a multiple of 4).
(module
  (memory (export "memory") 1)

  ;; Lanes of x outside the main range, as a mask (NaN compares false, so it is outside too).
  (func $outside (param $x v128) (result v128)
    (local $ax v128)
    (local.set $ax (f64x2.abs (local.get $x)))
    (v128.not (v128.and
      (f64x2.ge (local.get $ax) (v128.const i64x2 0x3FF0A2B200000000 0x3FF0A2B200000000))
      (f64x2.le (local.get $ax) (v128.const f64x2 708 708)))))

  ;; Appends i (lane 0) and i + 1 (lane 1) to the list at odd for each set lane of mask; returns the new count.
  (func $note (param $mask v128) (param $i i32) (param $odd i32) (param $count i32) (result i32)
    (if (i64.ne (i64x2.extract_lane 0 (local.get $mask)) (i64.const 0))
      (then
        (i32.store (i32.add (local.get $odd) (i32.shl (local.get $count) (i32.const 2))) (local.get $i))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))))
    (if (i64.ne (i64x2.extract_lane 1 (local.get $mask)) (i64.const 0))
      (then
        (i32.store (i32.add (local.get $odd) (i32.shl (local.get $count) (i32.const 2))) (i32.add (local.get $i) (i32.const 1)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))))
    (local.get $count))

  ;; dst[i] = exp(src[i] - shift) for the main-range lanes; the indices of the other lanes are written to odd
  ;; (i32s, ascending) and their number is returned. dst may be src. Per pair, in fdlibm's order:
  ;;   k = (int)(invln2·x + (x < 0 ? -0.5 : 0.5)), truncated toward zero as C's conversion
  ;;   hi, lo, r, t = r·r, c with P5 .. P1 (fdlibm's constants, by their bits), y = 1 − ((lo − r·c/(2 − c)) − hi)
  ;;   exp = y · 2^k, 2^k from its bits (k + 1023) << 52 (k >= -1021 in the main range: a normal number), k
  ;;   read from the low bits of k + 1.5·2^52, which is exact: bits(k + 1.5·2^52) − bits(1.5·2^52) = k.
  (func (export "expShiftF64") (param $src i32) (param $dst i32) (param $n i32) (param $shift f64) (param $odd i32) (result i32)
    (local $i i32) (local $count i32) (local $sh v128) (local $bad0 v128) (local $bad1 v128) (local $inf0 v128) (local $inf1 v128)
    (local $x0 v128) (local $t0 v128) (local $hi0 v128) (local $lo0 v128) (local $r0 v128) (local $rr0 v128) (local $c0 v128) (local $y0 v128)
    (local $x1 v128) (local $t1 v128) (local $hi1 v128) (local $lo1 v128) (local $r1 v128) (local $rr1 v128) (local $c1 v128) (local $y1 v128)
    (local.set $sh (f64x2.splat (local.get $shift)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x0 (f64x2.sub (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))) (local.get $sh)))
        (local.set $x1 (f64x2.sub (v128.load offset=16 (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3)))) (local.get $sh)))
        (local.set $t0 (f64x2.trunc (f64x2.add
          (f64x2.mul (local.get $x0) (v128.const i64x2 0x3FF71547652B82FE 0x3FF71547652B82FE))
          (v128.bitselect (v128.const f64x2 -0.5 -0.5) (v128.const f64x2 0.5 0.5) (f64x2.lt (local.get $x0) (v128.const f64x2 0 0))))))
        (local.set $hi0 (f64x2.sub (local.get $x0) (f64x2.mul (local.get $t0) (v128.const i64x2 0x3FE62E42FEE00000 0x3FE62E42FEE00000))))
        (local.set $lo0 (f64x2.mul (local.get $t0) (v128.const i64x2 0x3DEA39EF35793C76 0x3DEA39EF35793C76)))
        (local.set $r0 (f64x2.sub (local.get $hi0) (local.get $lo0)))
        (local.set $rr0 (f64x2.mul (local.get $r0) (local.get $r0)))
        (local.set $c0 (f64x2.add (v128.const i64x2 0xBEBBBD41C5D26BF1 0xBEBBBD41C5D26BF1) (f64x2.mul (local.get $rr0) (v128.const i64x2 0x3E66376972BEA4D0 0x3E66376972BEA4D0))))
        (local.set $c0 (f64x2.add (v128.const i64x2 0x3F11566AAF25DE2C 0x3F11566AAF25DE2C) (f64x2.mul (local.get $rr0) (local.get $c0))))
        (local.set $c0 (f64x2.add (v128.const i64x2 0xBF66C16C16BEBD93 0xBF66C16C16BEBD93) (f64x2.mul (local.get $rr0) (local.get $c0))))
        (local.set $c0 (f64x2.add (v128.const i64x2 0x3FC555555555553E 0x3FC555555555553E) (f64x2.mul (local.get $rr0) (local.get $c0))))
        (local.set $c0 (f64x2.sub (local.get $r0) (f64x2.mul (local.get $rr0) (local.get $c0))))
        (local.set $y0 (f64x2.mul
          (f64x2.sub (v128.const f64x2 1 1) (f64x2.sub
            (f64x2.sub (local.get $lo0) (f64x2.div (f64x2.mul (local.get $r0) (local.get $c0)) (f64x2.sub (v128.const f64x2 2 2) (local.get $c0))))
            (local.get $hi0)))
          (i64x2.add
            (i64x2.shl
              (i64x2.sub (f64x2.add (local.get $t0) (v128.const f64x2 6755399441055744 6755399441055744)) (v128.const i64x2 0x4338000000000000 0x4338000000000000))
              (i32.const 52))
            (v128.const i64x2 0x3FF0000000000000 0x3FF0000000000000))))
        ;; The second pair: the same sequence.
        (local.set $t1 (f64x2.trunc (f64x2.add
          (f64x2.mul (local.get $x1) (v128.const i64x2 0x3FF71547652B82FE 0x3FF71547652B82FE))
          (v128.bitselect (v128.const f64x2 -0.5 -0.5) (v128.const f64x2 0.5 0.5) (f64x2.lt (local.get $x1) (v128.const f64x2 0 0))))))
        (local.set $hi1 (f64x2.sub (local.get $x1) (f64x2.mul (local.get $t1) (v128.const i64x2 0x3FE62E42FEE00000 0x3FE62E42FEE00000))))
        (local.set $lo1 (f64x2.mul (local.get $t1) (v128.const i64x2 0x3DEA39EF35793C76 0x3DEA39EF35793C76)))
        (local.set $r1 (f64x2.sub (local.get $hi1) (local.get $lo1)))
        (local.set $rr1 (f64x2.mul (local.get $r1) (local.get $r1)))
        (local.set $c1 (f64x2.add (v128.const i64x2 0xBEBBBD41C5D26BF1 0xBEBBBD41C5D26BF1) (f64x2.mul (local.get $rr1) (v128.const i64x2 0x3E66376972BEA4D0 0x3E66376972BEA4D0))))
        (local.set $c1 (f64x2.add (v128.const i64x2 0x3F11566AAF25DE2C 0x3F11566AAF25DE2C) (f64x2.mul (local.get $rr1) (local.get $c1))))
        (local.set $c1 (f64x2.add (v128.const i64x2 0xBF66C16C16BEBD93 0xBF66C16C16BEBD93) (f64x2.mul (local.get $rr1) (local.get $c1))))
        (local.set $c1 (f64x2.add (v128.const i64x2 0x3FC555555555553E 0x3FC555555555553E) (f64x2.mul (local.get $rr1) (local.get $c1))))
        (local.set $c1 (f64x2.sub (local.get $r1) (f64x2.mul (local.get $rr1) (local.get $c1))))
        (local.set $y1 (f64x2.mul
          (f64x2.sub (v128.const f64x2 1 1) (f64x2.sub
            (f64x2.sub (local.get $lo1) (f64x2.div (f64x2.mul (local.get $r1) (local.get $c1)) (f64x2.sub (v128.const f64x2 2 2) (local.get $c1))))
            (local.get $hi1)))
          (i64x2.add
            (i64x2.shl
              (i64x2.sub (f64x2.add (local.get $t1) (v128.const f64x2 6755399441055744 6755399441055744)) (v128.const i64x2 0x4338000000000000 0x4338000000000000))
              (i32.const 52))
            (v128.const i64x2 0x3FF0000000000000 0x3FF0000000000000))))
        ;; exp(−∞) = +0 here too (removed tokens are −∞; they must not all go to the caller).
        (local.set $inf0 (f64x2.eq (local.get $x0) (v128.const f64x2 -inf -inf)))
        (local.set $inf1 (f64x2.eq (local.get $x1) (v128.const f64x2 -inf -inf)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))) (v128.andnot (local.get $y0) (local.get $inf0)))
        (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))) (v128.andnot (local.get $y1) (local.get $inf1)))
        (local.set $bad0 (v128.andnot (call $outside (local.get $x0)) (local.get $inf0)))
        (local.set $bad1 (v128.andnot (call $outside (local.get $x1)) (local.get $inf1)))
        (if (v128.any_true (v128.or (local.get $bad0) (local.get $bad1)))
          (then
            (local.set $count (call $note (local.get $bad0) (local.get $i) (local.get $odd) (local.get $count)))
            (local.set $count (call $note (local.get $bad1) (i32.add (local.get $i) (i32.const 2)) (local.get $odd) (local.get $count)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (local.get $count)))
