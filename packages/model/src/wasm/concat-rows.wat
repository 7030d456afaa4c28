;; Two matrices side by side, for the wasm backend's heap: out[r, :] = [a[r, :], b[r, :]].
;;
;; a [R, ca], b [R, cb], out [R, ca + cb]; byte addresses and row sizes in bytes. A decoding step appends its
;; keys and values to the KV cache this way (one row per (batch, kv head) for keys, per (batch, kv head, dim)
;; for the transposed values): two bulk copies a row, where tfjs-wasm's Concat makes a typed-array view and a
;; copy in JavaScript for each row and input (128 of each for a two-row small step's values per layer).
(module
  (import "env" "memory" (memory 1))

  (func (export "concat2") (param $a i32) (param $b i32) (param $out i32) (param $R i32) (param $aBytes i32) (param $bBytes i32)
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $R)))
        (memory.copy (local.get $out) (local.get $a) (local.get $aBytes))
        (local.set $out (i32.add (local.get $out) (local.get $aBytes)))
        (memory.copy (local.get $out) (local.get $b) (local.get $bBytes))
        (local.set $out (i32.add (local.get $out) (local.get $bBytes)))
        (local.set $a (i32.add (local.get $a) (local.get $aBytes)))
        (local.set $b (i32.add (local.get $b) (local.get $bBytes)))
        (local.set $R (i32.sub (local.get $R) (i32.const 1)))
        (br $row))))
)
