// Activations with hand-written gradients (one tape node each instead of five or six).
import * as tf from '@tensorflow/tfjs-core';

// torch's gelu(approximate='tanh') constants: kBeta = sqrt(2) * (2/sqrt(pi)) * 0.5, kKappa = 0.044715.
const K_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
const K_KAPPA = 0.044715;

/** gelu_pytorch_tanh's forward in torch's order: t = tanh(kBeta (x + kKappa x^3)), y = 0.5 x (1 + t). */
function geluTanhForward(x: tf.Tensor): { t: tf.Tensor; y: tf.Tensor } {
  const x3 = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(x3, K_KAPPA)), K_BETA);
  const t = tf.tanh(inner);
  return { t, y: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)) };
}

/** d gelu_tanh / dx from x and t (geluTanhForward's): 0.5 (1 + t) + 0.5 x (1 - t^2) kBeta (1 + 3 kKappa x^2). */
function geluTanhSlope(x: tf.Tensor, t: tf.Tensor): tf.Tensor {
  const a = tf.mul(tf.add(t, 1), 0.5);
  const sech2 = tf.sub(1, tf.square(t));
  const dInner = tf.mul(tf.add(tf.mul(tf.square(x), 3 * K_KAPPA), 1), K_BETA);
  const b = tf.mul(tf.mul(tf.mul(x, 0.5), sech2), dInner);
  return tf.add(a, b);
}

/**
 * transformers' `gelu_pytorch_tanh` (torch.nn.functional.gelu(x, approximate='tanh')):
 * 0.5 x (1 + tanh(kBeta (x + kKappa x^3))), evaluated in torch's order.
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xi = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const { t, y } = geluTanhForward(xi);
    save([xi, t]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ts] = saved as [tf.Tensor, tf.Tensor];
        return [tf.mul(dy, geluTanhSlope(xs, ts))];
      },
    };
  });
  return f(x);
}

/** Kernel names a backend may provide for geluTanhGate (@vla-lora/tfjs-backend does on wasm). */
const GATE_KERNEL = 'VlaGeluTanhGate';
const GATE_GRAD_KERNEL = 'VlaGeluTanhGateGrad';

function fusedGateAvailable(gate: tf.Tensor, up: tf.Tensor): boolean {
  const backend = tf.getBackend();
  return (
    gate.dtype === 'float32' &&
    up.dtype === 'float32' &&
    tf.util.arraysEqual(gate.shape, up.shape) &&
    tf.getKernel(GATE_KERNEL, backend) !== undefined &&
    tf.getKernel(GATE_GRAD_KERNEL, backend) !== undefined
  );
}

/**
 * transformers' GemmaMLP gate, gelu_pytorch_tanh(gate) * up, as one tape node. Where the backend
 * registers the fused kernels (VlaGeluTanhGate / VlaGeluTanhGateGrad: @vla-lora/tfjs-backend on wasm)
 * forward and backward are one pass each; elsewhere the forward is geluTanh's ops then the product, and
 * the gradient is what tfjs's autodiff of that computes (the same kernels in the same order, without the
 * Multiply gradient's float32-to-float32 Cast copies). Both give the same float32 values.
 */
export function geluTanhGate(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  if (fusedGateAvailable(gate, up)) {
    const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [g, u] = args as [tf.Tensor, tf.Tensor];
      const save = args[2] as tf.GradSaveFunc;
      const [y, t] = tf.engine().runKernel(GATE_KERNEL, { gate: g, up: u }, {}) as tf.Tensor[];
      save([g, u, t!]);
      return {
        value: y!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [gs, us, ts] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
          return tf.engine().runKernel(GATE_GRAD_KERNEL, { dy, gate: gs, up: us, t: ts }, {}) as tf.Tensor[];
        },
      };
    });
    return tf.tidy(() => fused(gate, up));
  }
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [g, u] = args as [tf.Tensor, tf.Tensor];
    const save = args[2] as tf.GradSaveFunc;
    const { t, y: gel } = geluTanhForward(g);
    save([g, t, u, gel]);
    return {
      value: tf.mul(gel, u),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [gs, ts, us, gels] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const dGel = tf.mul(dy, us);
        const du = tf.mul(dy, gels);
        return [tf.mul(dGel, geluTanhSlope(gs, ts)), du]; // geluTanh's gradient of dGel
      },
    };
  });
  return tf.tidy(() => f(gate, up));
}

/** SiLU / swish: x * sigmoid(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xi = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const s = tf.sigmoid(xi);
    save([xi, s]);
    return {
      value: tf.mul(xi, s),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ss] = saved as [tf.Tensor, tf.Tensor];
        // d/dx = s (1 + x (1 - s))
        return [tf.mul(dy, tf.mul(ss, tf.add(tf.mul(xs, tf.sub(1, ss)), 1)))];
      },
    };
  });
  return f(x);
}

/** An activation by its transformers name (`hidden_act`). */
export function activationByName(name: string): ((x: tf.Tensor) => tf.Tensor) | undefined {
  switch (name) {
    case 'gelu_pytorch_tanh':
    case 'gelu_tanh':
    case 'gelu_fast': // openpi's projector_hidden_act (unused by the projector, which is one linear)
      return geluTanh;
    case 'silu':
    case 'swish':
      return silu;
    default:
      return undefined;
  }
}
