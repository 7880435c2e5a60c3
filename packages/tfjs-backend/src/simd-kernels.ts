// The WebAssembly SIMD loops of gelu-gate.wat (Tanh and the fused GELU-tanh gate kernels), instantiated
// once per tfjs-backend-wasm memory, which they import: they read and write tensors in place.
import { GELU_GATE_WASM_BASE64 } from './gelu-gate-wasm.js';

export interface GateSimd {
  /** tanh of elements [i, n) in groups of 4 until a group needs Math.tanh; returns where it stopped. */
  tanh(x: number, y: number, i: number, n: number): number;
  /** Elements [i, n) in groups of 4 until a group needs Math.tanh; returns where it stopped. */
  forward(g: number, u: number, y: number, t: number, i: number, n: number, kappa: number, beta: number): number;
  /** Elements [0, n) in groups of 4; returns how many it did. */
  backward(
    dy: number,
    g: number,
    u: number,
    t: number,
    dg: number,
    du: number,
    n: number,
    k3: number,
    b: number,
  ): number;
}

// (this package's TS lib has no WebAssembly types: the three constructors used, typed here)
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let gateModule: object | null | undefined;
const instances = new WeakMap<object, GateSimd>();

/** The SIMD kernels instantiated on the backend's memory, or undefined (no SIMD, memory not reachable). */
export function simdFor(backend: { wasm: { asm?: { memory?: unknown } } }): GateSimd | undefined {
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WASM.Memory)) return undefined;
  const known = instances.get(memory);
  if (known !== undefined) return known;
  if (gateModule === undefined) {
    try {
      gateModule = new WASM.Module(Uint8Array.from(atob(GELU_GATE_WASM_BASE64), (c) => c.charCodeAt(0)));
    } catch {
      gateModule = null; // no WebAssembly SIMD here: the JS loops do everything
    }
  }
  if (gateModule === null) return undefined;
  const simd = new WASM.Instance(gateModule, { env: { memory } }).exports as unknown as GateSimd;
  instances.set(memory, simd);
  return simd;
}
