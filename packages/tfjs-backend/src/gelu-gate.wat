;; The Tanh kernel (fast-tanh.ts) and the fused Gemma MLP gate kernels (fast-gelu-gate.ts) in WebAssembly SIMD over tfjs-backend-wasm's own
;; memory (imported): four floats per step, every step the float32 operation of the op-by-op chain
;; (f32x4 add/mul round exactly as Math.fround of the double operation does), and tanh as fast-tanh.ts's
;; rational form in double precision (f64x2, the same multiplies and adds in the same order, then
;; demoted to float32 as Math.fround does). Compiled by scripts/build-gelu-gate-wasm.mjs (wabt) into
;; src/gelu-gate-wasm.ts; a test checks the embedded bytes against this file.
(module
  (import "env" "memory" (memory 0))

  ;; fast-tanh.ts's tanhApprox on two doubles, except |v| > 7.9 (the caller never passes those)
  (func $tanh (param $v v128) (result v128)
    (local $x2 v128) (local $p v128) (local $q v128)
    (local.set $x2 (f64x2.mul (local.get $v) (local.get $v)))
    (local.set $p (v128.const f64x2 -2.76076847742355e-16 -2.76076847742355e-16))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (v128.const f64x2 2.00018790482477e-13 2.00018790482477e-13)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (v128.const f64x2 -8.60467152213735e-11 -8.60467152213735e-11)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (v128.const f64x2 5.12229709037114e-8 5.12229709037114e-8)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (v128.const f64x2 1.48572235717979e-5 1.48572235717979e-5)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (v128.const f64x2 6.37261928875436e-4 6.37261928875436e-4)))
    (local.set $p (f64x2.add (f64x2.mul (local.get $p) (local.get $x2)) (v128.const f64x2 4.89352455891786e-3 4.89352455891786e-3)))
    (local.set $q (v128.const f64x2 1.19825839466702e-6 1.19825839466702e-6))
    (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $x2)) (v128.const f64x2 1.18534705686654e-4 1.18534705686654e-4)))
    (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $x2)) (v128.const f64x2 2.268434632439e-3 2.268434632439e-3)))
    (local.set $q (f64x2.add (f64x2.mul (local.get $q) (local.get $x2)) (v128.const f64x2 4.89352518554385e-3 4.89352518554385e-3)))
    ;; |v| < 0.0004: v itself (keeps -0)
    (v128.bitselect
      (local.get $v)
      (f64x2.div (f64x2.mul (local.get $v) (local.get $p)) (local.get $q))
      (f64x2.lt (f64x2.abs (local.get $v)) (v128.const f64x2 0.0004 0.0004))))

  ;; y = tanh(x) (the Tanh kernel, fast-tanh.ts) for elements [i, n) in groups of four; returns where it
  ;; stopped: n rounded down to a multiple of 4 past i, or a group with |x| > 7.9 (for Math.tanh).
  (func (export "tanh") (param $x i32) (param $y i32) (param $i i32) (param $n i32) (result i32)
    (local $o i32) (local $in v128) (local $lo v128) (local $hi v128)
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $in (v128.load align=4 (i32.add (local.get $x) (local.get $o))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $in)))
        (local.set $hi
          (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $in) (local.get $in))))
        (br_if $done
          (v128.any_true
            (v128.or
              (f64x2.gt (f64x2.abs (local.get $lo)) (v128.const f64x2 7.9 7.9))
              (f64x2.gt (f64x2.abs (local.get $hi)) (v128.const f64x2 7.9 7.9)))))
        (v128.store align=4 (i32.add (local.get $y) (local.get $o))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (call $tanh (local.get $lo)))
            (f32x4.demote_f64x2_zero (call $tanh (local.get $hi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (local.get $i))

  ;; y = gelu_tanh(gate) * up and t = tanh(inner) for elements [i, n) in groups of four; returns the
  ;; index of the first group it did not do: n rounded down to a multiple of 4 past i, or a group with
  ;; |inner| > 7.9 (Math.tanh's range; the caller does that group and calls again).
  (func (export "forward")
    (param $g i32) (param $u i32) (param $y i32) (param $t i32) (param $i i32) (param $n i32)
    (param $kappa f32) (param $beta f32) (result i32)
    (local $o i32) (local $vg v128) (local $in v128) (local $lo v128) (local $hi v128) (local $th v128)
    (local $vk v128) (local $vb v128)
    (local.set $vk (f32x4.splat (local.get $kappa)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $vg (v128.load align=4 (i32.add (local.get $g) (local.get $o))))
        (local.set $in
          (f32x4.mul
            (f32x4.add
              (local.get $vg)
              (f32x4.mul (f32x4.mul (f32x4.mul (local.get $vg) (local.get $vg)) (local.get $vg)) (local.get $vk)))
            (local.get $vb)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $in)))
        (local.set $hi
          (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $in) (local.get $in))))
        (br_if $done
          (v128.any_true
            (v128.or
              (f64x2.gt (f64x2.abs (local.get $lo)) (v128.const f64x2 7.9 7.9))
              (f64x2.gt (f64x2.abs (local.get $hi)) (v128.const f64x2 7.9 7.9)))))
        (local.set $th
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (call $tanh (local.get $lo)))
            (f32x4.demote_f64x2_zero (call $tanh (local.get $hi)))))
        (v128.store align=4 (i32.add (local.get $t) (local.get $o)) (local.get $th))
        (v128.store align=4 (i32.add (local.get $y) (local.get $o))
          (f32x4.mul
            (f32x4.mul
              (f32x4.mul (local.get $vg) (v128.const f32x4 0.5 0.5 0.5 0.5))
              (f32x4.add (local.get $th) (v128.const f32x4 1 1 1 1)))
            (v128.load align=4 (i32.add (local.get $u) (local.get $o)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (local.get $i))

  ;; dGate and dUp for elements [0, n) in groups of four; returns how many it did (n rounded down to 4).
  (func (export "backward")
    (param $dy i32) (param $g i32) (param $u i32) (param $t i32) (param $dg i32) (param $du i32) (param $n i32)
    (param $kappa3 f32) (param $beta f32) (result i32)
    (local $i i32) (local $o i32) (local $d v128) (local $vg v128) (local $th v128) (local $gh v128) (local $t1 v128)
    (local $vk v128) (local $vb v128) (local $one v128) (local $half v128)
    (local.set $vk (f32x4.splat (local.get $kappa3)))
    (local.set $vb (f32x4.splat (local.get $beta)))
    (local.set $one (v128.const f32x4 1 1 1 1))
    (local.set $half (v128.const f32x4 0.5 0.5 0.5 0.5))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $d (v128.load align=4 (i32.add (local.get $dy) (local.get $o))))
        (local.set $vg (v128.load align=4 (i32.add (local.get $g) (local.get $o))))
        (local.set $th (v128.load align=4 (i32.add (local.get $t) (local.get $o))))
        (local.set $gh (f32x4.mul (local.get $vg) (local.get $half)))
        (local.set $t1 (f32x4.add (local.get $th) (local.get $one)))
        ;; dUp = dy * gelu(gate)
        (v128.store align=4 (i32.add (local.get $du) (local.get $o))
          (f32x4.mul (local.get $d) (f32x4.mul (local.get $gh) (local.get $t1))))
        ;; dGate = dy * up * (a + b), a = (t + 1) / 2, b = gate/2 * (1 - t^2) * dInner
        (v128.store align=4 (i32.add (local.get $dg) (local.get $o))
          (f32x4.mul
            (f32x4.mul (local.get $d) (v128.load align=4 (i32.add (local.get $u) (local.get $o))))
            (f32x4.add
              (f32x4.mul (local.get $t1) (local.get $half))
              (f32x4.mul
                (f32x4.mul (local.get $gh) (f32x4.sub (local.get $one) (f32x4.mul (local.get $th) (local.get $th))))
                (f32x4.mul
                  (f32x4.add (f32x4.mul (f32x4.mul (local.get $vg) (local.get $vg)) (local.get $vk)) (local.get $one))
                  (local.get $vb))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $next)))
    (local.get $i)))
