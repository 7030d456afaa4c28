;; Rows of a table picked by index, for the wasm backend: out[i, :] = table[ids[i], :].
;;
;; table [V, width] f32, ids [n] i32 (each in [0, V): the caller's to check), out [n, width]; byte addresses,
;; rowBytes = 4·width. tfjs-backend-wasm's GatherV2 walks every element through its index arithmetic (about
;; 6 µs a 256-wide row); a row here is one bulk copy.
(module
  (import "env" "memory" (memory 1))

  (func (export "gather") (param $table i32) (param $ids i32) (param $out i32) (param $n i32) (param $rowBytes i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ids) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ids) (local.get $end)))
        (memory.copy
          (local.get $out)
          (i32.add (local.get $table) (i32.mul (i32.load (local.get $ids)) (local.get $rowBytes)))
          (local.get $rowBytes))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $ids (i32.add (local.get $ids) (i32.const 4)))
        (br $next))))
)
