;; Float32 maximum, exponential and logarithm over arrays (WebAssembly SIMD, two vectors of four lanes per
;; iteration so the two polynomial chains overlap), for the per-step passes over the vocabulary in greedy
;; and contrastive scoring: float32, as the published PyTorch code computes its softmaxes and logarithms.
;; Accuracy: within 2 ulp of the correctly rounded float32 result (tested against Math.exp / Math.log);
;; exp takes inputs in [-87.3, 88] (smaller ones give about 1e-38 instead of 0), log positive normal inputs.
;; Arrays are at byte offsets of this module's memory; n counts elements (a multiple of 8).
(module
  (memory (export "memory") 1)

  ;; The largest element (NaN if any is NaN). pmax is one instruction where max is a sequence (its NaN and
  ;; signed-zero rules); NaNs are tracked on the side instead.
  (func (export "maxF32") (param $ptr i32) (param $n i32) (result f32)
    (local $end i32) (local $m0 v128) (local $m1 v128) (local $x0 v128) (local $x1 v128) (local $nan v128)
    (local.set $m0 (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $m1 (local.get $m0))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $x0 (v128.load offset=0 (local.get $ptr)))
        (local.set $x1 (v128.load offset=16 (local.get $ptr)))
        (local.set $m0 (f32x4.pmax (local.get $m0) (local.get $x0)))
        (local.set $m1 (f32x4.pmax (local.get $m1) (local.get $x1)))
        (local.set $nan (v128.or (local.get $nan) (v128.or (f32x4.ne (local.get $x0) (local.get $x0)) (f32x4.ne (local.get $x1) (local.get $x1)))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 32)))
        (br $next)))
    (if (v128.any_true (local.get $nan)) (then (return (f32.const nan))))
    (local.set $m0 (f32x4.pmax (local.get $m0) (local.get $m1)))
    (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $m0)) (f32x4.extract_lane 1 (local.get $m0)))
      (f32.max (f32x4.extract_lane 2 (local.get $m0)) (f32x4.extract_lane 3 (local.get $m0)))))

  ;; dst[i] = exp(src[i] - shift) (dst may be src); returns the sum of the results, accumulated in float64 by
  ;; chunks of 1024 elements (each from zero, the chunks' sums added in order), so threads that take whole chunks
  ;; (the native twin's one-call steps) add the same numbers in the same order.
  ;; The clamp uses pmin/pmax (one instruction each; a NaN input stays NaN).
  ;; exp(x): x = n·ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2), e^r = 1 + r + r²·P(r) with Cephes'
  ;; expf polynomial. n is rounded by adding 1.5·2^23 (its low bits then hold n), and 2^n is written into the
;; exponent bits from those: (bits − bits(1.5·2^23) + 127) << 23.
  (func (export "expShiftSum") (param $src i32) (param $dst i32) (param $n i32) (param $shift f32) (result f64)
    (local $end i32) (local $stop i32) (local $total f64) (local $sh v128) (local $s0 v128) (local $s1 v128)
    (local $x0 v128) (local $x1 v128) (local $n0 v128) (local $n1 v128) (local $p0 v128) (local $p1 v128) (local $t0 v128) (local $t1 v128)
    (local.set $sh (f32x4.splat (local.get $shift)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $all
     (loop $chunk
      (br_if $all (i32.ge_u (local.get $src) (local.get $end)))
      ;; chunks of 1024 elements (4096 bytes), each summed from zero
      (local.set $stop (select (local.get $end) (i32.add (local.get $src) (i32.const 4096)) (i32.lt_u (i32.sub (local.get $end) (local.get $src)) (i32.const 4096))))
      (local.set $s0 (v128.const f64x2 0 0))
      (local.set $s1 (v128.const f64x2 0 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $stop)))
        (local.set $x0 (f32x4.pmin (f32x4.pmax (f32x4.sub (v128.load offset=0 (local.get $src)) (local.get $sh)) (v128.const f32x4 -87.33 -87.33 -87.33 -87.33)) (v128.const f32x4 88 88 88 88)))
        (local.set $x1 (f32x4.pmin (f32x4.pmax (f32x4.sub (v128.load offset=16 (local.get $src)) (local.get $sh)) (v128.const f32x4 -87.33 -87.33 -87.33 -87.33)) (v128.const f32x4 88 88 88 88)))
        (local.set $t0 (f32x4.add (f32x4.mul (local.get $x0) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $n0 (f32x4.sub (local.get $t0) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $t1 (f32x4.add (f32x4.mul (local.get $x1) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $n1 (f32x4.sub (local.get $t1) (v128.const f32x4 12582912 12582912 12582912 12582912)))
        (local.set $x0 (f32x4.sub (f32x4.sub (local.get $x0) (f32x4.mul (local.get $n0) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $n0) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
        (local.set $x1 (f32x4.sub (f32x4.sub (local.get $x1) (f32x4.mul (local.get $n1) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))) (f32x4.mul (local.get $n1) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
        (local.set $p0 (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $x0)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
        (local.set $p1 (f32x4.add (f32x4.mul (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4) (local.get $x1)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $x0)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $x1)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $x0)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $x1)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $x0)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $x1)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
        (local.set $p0 (f32x4.add (f32x4.mul (local.get $p0) (local.get $x0)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
        (local.set $p1 (f32x4.add (f32x4.mul (local.get $p1) (local.get $x1)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
        ;; 1 + r + r²·P(r), times 2^n
        (local.set $p0 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p0) (local.get $x0)) (local.get $x0)) (local.get $x0)) (v128.const f32x4 1 1 1 1)))
        (local.set $p1 (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $p1) (local.get $x1)) (local.get $x1)) (local.get $x1)) (v128.const f32x4 1 1 1 1)))
        (local.set $p0 (f32x4.mul (local.get $p0) (i32x4.shl (i32x4.sub (local.get $t0) (v128.const i32x4 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81)) (i32.const 23))))
        (local.set $p1 (f32x4.mul (local.get $p1) (i32x4.shl (i32x4.sub (local.get $t1) (v128.const i32x4 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81)) (i32.const 23))))
        (v128.store offset=0 (local.get $dst) (local.get $p0))
        (v128.store offset=16 (local.get $dst) (local.get $p1))
        ;; the sum: the two vectors added in float32 (one rounding), then accumulated in float64
        (local.set $p0 (f32x4.add (local.get $p0) (local.get $p1)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $p0))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $p0) (local.get $p0)))))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $next)))
      (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
      (local.set $total (f64.add (local.get $total) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))))
      (br $chunk)))
    (local.get $total))

  ;; log(x) of two vectors (two chains, so they overlap), for positive normal x: x = m·2^e with m in
  ;; [sqrt(1/2), sqrt(2)) from the bits, log m = 2·atanh(s) with s = (m-1)/(m+1), |s| <= 0.1716, summed to
  ;; s^9 (truncation < 3e-9 relative).
  (func $log2 (param $m0 v128) (param $m1 v128) (result v128 v128)
    (local $e0 v128) (local $e1 v128) (local $big0 v128) (local $big1 v128)
    (local $s0 v128) (local $s1 v128) (local $z0 v128) (local $z1 v128) (local $q0 v128) (local $q1 v128)
    (local.set $e0 (i32x4.sub (i32x4.shr_u (local.get $m0) (i32.const 23)) (v128.const i32x4 127 127 127 127)))
    (local.set $e1 (i32x4.sub (i32x4.shr_u (local.get $m1) (i32.const 23)) (v128.const i32x4 127 127 127 127)))
    (local.set $m0 (v128.or (v128.and (local.get $m0) (v128.const i32x4 0x007FFFFF 0x007FFFFF 0x007FFFFF 0x007FFFFF)) (v128.const i32x4 0x3F800000 0x3F800000 0x3F800000 0x3F800000)))
    (local.set $m1 (v128.or (v128.and (local.get $m1) (v128.const i32x4 0x007FFFFF 0x007FFFFF 0x007FFFFF 0x007FFFFF)) (v128.const i32x4 0x3F800000 0x3F800000 0x3F800000 0x3F800000)))
    (local.set $big0 (f32x4.gt (local.get $m0) (v128.const f32x4 1.41421356 1.41421356 1.41421356 1.41421356)))
    (local.set $big1 (f32x4.gt (local.get $m1) (v128.const f32x4 1.41421356 1.41421356 1.41421356 1.41421356)))
    (local.set $m0 (v128.bitselect (f32x4.mul (local.get $m0) (v128.const f32x4 0.5 0.5 0.5 0.5)) (local.get $m0) (local.get $big0)))
    (local.set $m1 (v128.bitselect (f32x4.mul (local.get $m1) (v128.const f32x4 0.5 0.5 0.5 0.5)) (local.get $m1) (local.get $big1)))
    ;; e + 1 where m was halved (the mask is -1 there), as float32
    (local.set $e0 (f32x4.convert_i32x4_s (i32x4.sub (local.get $e0) (local.get $big0))))
    (local.set $e1 (f32x4.convert_i32x4_s (i32x4.sub (local.get $e1) (local.get $big1))))
    (local.set $s0 (f32x4.div (f32x4.sub (local.get $m0) (v128.const f32x4 1 1 1 1)) (f32x4.add (local.get $m0) (v128.const f32x4 1 1 1 1))))
    (local.set $s1 (f32x4.div (f32x4.sub (local.get $m1) (v128.const f32x4 1 1 1 1)) (f32x4.add (local.get $m1) (v128.const f32x4 1 1 1 1))))
    (local.set $z0 (f32x4.mul (local.get $s0) (local.get $s0)))
    (local.set $z1 (f32x4.mul (local.get $s1) (local.get $s1)))
    (local.set $q0 (f32x4.add (f32x4.mul (v128.const f32x4 0.22222222 0.22222222 0.22222222 0.22222222) (local.get $z0)) (v128.const f32x4 0.28571429 0.28571429 0.28571429 0.28571429))) ;; 2/9, 2/7
    (local.set $q1 (f32x4.add (f32x4.mul (v128.const f32x4 0.22222222 0.22222222 0.22222222 0.22222222) (local.get $z1)) (v128.const f32x4 0.28571429 0.28571429 0.28571429 0.28571429)))
    (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $z0)) (v128.const f32x4 0.4 0.4 0.4 0.4))) ;; 2/5
    (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $z1)) (v128.const f32x4 0.4 0.4 0.4 0.4)))
    (local.set $q0 (f32x4.add (f32x4.mul (local.get $q0) (local.get $z0)) (v128.const f32x4 0.66666667 0.66666667 0.66666667 0.66666667))) ;; 2/3
    (local.set $q1 (f32x4.add (f32x4.mul (local.get $q1) (local.get $z1)) (v128.const f32x4 0.66666667 0.66666667 0.66666667 0.66666667)))
    ;; e·ln2_hi + (2s + (s·z·q + e·ln2_lo))
    (local.set $m0
      (f32x4.add (f32x4.mul (local.get $e0) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
        (f32x4.add (f32x4.add (local.get $s0) (local.get $s0))
          (f32x4.add (f32x4.mul (f32x4.mul (local.get $s0) (local.get $z0)) (local.get $q0))
            (f32x4.mul (local.get $e0) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))))
    (local.set $m1
      (f32x4.add (f32x4.mul (local.get $e1) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
        (f32x4.add (f32x4.add (local.get $s1) (local.get $s1))
          (f32x4.add (f32x4.mul (f32x4.mul (local.get $s1) (local.get $z1)) (local.get $q1))
            (f32x4.mul (local.get $e1) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))))
    (local.get $m0) (local.get $m1))

  ;; a[i] = log(a[i]·scale + offset).
  (func (export "logAffine") (param $ptr i32) (param $n i32) (param $scale f32) (param $offset f32)
    (local $end i32) (local $sc v128) (local $of v128) (local $lo v128) (local $hi v128)
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $of (f32x4.splat (local.get $offset)))
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (call $log2
          (f32x4.add (f32x4.mul (v128.load offset=0 (local.get $ptr)) (local.get $sc)) (local.get $of))
          (f32x4.add (f32x4.mul (v128.load offset=16 (local.get $ptr)) (local.get $sc)) (local.get $of)))
        (local.set $hi)
        (local.set $lo)
        (v128.store offset=0 (local.get $ptr) (local.get $lo))
        (v128.store offset=16 (local.get $ptr) (local.get $hi))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 32)))
        (br $next))))

;; dst[i] = src[i]·scale + offset (dst may be src).
  (func (export "affine") (param $src i32) (param $dst i32) (param $n i32) (param $scale f32) (param $offset f32)
    (local $end i32) (local $sc v128) (local $of v128)
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $of (f32x4.splat (local.get $offset)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (v128.store offset=0 (local.get $dst) (f32x4.add (f32x4.mul (v128.load offset=0 (local.get $src)) (local.get $sc)) (local.get $of)))
        (v128.store offset=16 (local.get $dst) (f32x4.add (f32x4.mul (v128.load offset=16 (local.get $src)) (local.get $sc)) (local.get $of)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $next))))

  ;; The sum of the elements >= threshold, in index order, accumulated in float64 (blocks of eight with none
  ;; at or above the threshold are skipped together).
  (func (export "sumAtLeast") (param $src i32) (param $n i32) (param $threshold f32) (result f64)
    (local $end i32) (local $th v128) (local $bits i32) (local $sum f64)
    (local.set $th (f32x4.splat (local.get $threshold)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $bits (i32.or
          (i32x4.bitmask (f32x4.ge (v128.load offset=0 (local.get $src)) (local.get $th)))
          (i32.shl (i32x4.bitmask (f32x4.ge (v128.load offset=16 (local.get $src)) (local.get $th))) (i32.const 4))))
        (block $none
          (loop $bit
            (br_if $none (i32.eqz (local.get $bits)))
            (local.set $sum (f64.add (local.get $sum)
              (f64.promote_f32 (f32.load (i32.add (local.get $src) (i32.shl (i32.ctz (local.get $bits)) (i32.const 2)))))))
            (local.set $bits (i32.and (local.get $bits) (i32.sub (local.get $bits) (i32.const 1))))
            (br $bit)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (br $next)))
    (local.get $sum))

  ;; Where src[i] >= threshold: dst[i] = log(src[i]·scale + offset) - lam·sub[i], the difference taken in
  ;; float64 and rounded to float32 (as JavaScript computes it from float32 arrays); elsewhere dst is left as
  ;; it is. Blocks of eight with no such element are skipped.
  (func (export "logContrastAtLeast") (param $src i32) (param $sub i32) (param $dst i32) (param $n i32)
    (param $threshold f32) (param $scale f32) (param $offset f32) (param $lam f64)
    (local $end i32) (local $th v128) (local $sc v128) (local $of v128) (local $l2 v128)
    (local $x0 v128) (local $x1 v128) (local $k0 v128) (local $k1 v128) (local $g0 v128) (local $g1 v128)
    (local.set $th (f32x4.splat (local.get $threshold)))
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $of (f32x4.splat (local.get $offset)))
    (local.set $l2 (f64x2.splat (local.get $lam)))
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $x0 (v128.load offset=0 (local.get $src)))
        (local.set $x1 (v128.load offset=16 (local.get $src)))
        (local.set $k0 (f32x4.ge (local.get $x0) (local.get $th)))
        (local.set $k1 (f32x4.ge (local.get $x1) (local.get $th)))
        (if (v128.any_true (v128.or (local.get $k0) (local.get $k1))) (then
          (call $log2
            (f32x4.add (f32x4.mul (local.get $x0) (local.get $sc)) (local.get $of))
            (f32x4.add (f32x4.mul (local.get $x1) (local.get $sc)) (local.get $of)))
          (local.set $g1)
          (local.set $g0)
          (v128.store offset=0 (local.get $dst) (v128.bitselect
            (call $minusScaled (local.get $g0) (v128.load offset=0 (local.get $sub)) (local.get $l2))
            (v128.load offset=0 (local.get $dst)) (local.get $k0)))
          (v128.store offset=16 (local.get $dst) (v128.bitselect
            (call $minusScaled (local.get $g1) (v128.load offset=16 (local.get $sub)) (local.get $l2))
            (v128.load offset=16 (local.get $dst)) (local.get $k1)))))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $sub (i32.add (local.get $sub) (i32.const 32)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (br $next))))

  ;; float32(a - lam·b) per lane, with a and b widened and the arithmetic done in float64.
  (func $minusScaled (param $a v128) (param $b v128) (param $lam v128) (result v128)
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (local.get $a))
        (f64x2.mul (local.get $lam) (f64x2.promote_low_f32x4 (local.get $b)))))
      (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $a) (local.get $a)))
        (f64x2.mul (local.get $lam) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $b) (local.get $b))))))))
)
