// Optimizer updates over flat ranges, in PyTorch's formulas (torch.optim, foreach=False).
// Weight decay (L2) adds wd·p to the gradient first, except AdamW (decoupled), which
// shrinks p by lr·wd·p before the Adam step (Loshchilov & Hutter).
// Everything is computed in double and rounded once into the arrays' dtype.
import type { FloatArray } from '../types';

/**
 * g' = g + wd·p; v = momentum·v + g'; step = nesterov ? g' + momentum·v : v; p −= lr·step.
 * With momentum = 0, step = g' and velocity is not touched (it may be null).
 * PyTorch's first step sets v = g', which is momentum·0 + g' with v zero-initialised.
 */
export function sgdUpdate(n: number, p: FloatArray, offp: number, g: FloatArray, offg: number,
  velocity: FloatArray | null, offv: number, lr: number, momentum: number,
  nesterov: boolean, weightDecay: number): void {
  if (momentum === 0 || velocity === null) {
    for (let k = 0; k < n; k++) {
      const pk = p[offp + k];
      p[offp + k] = pk - lr * (g[offg + k] + weightDecay * pk);
    }
    return;
  }
  for (let k = 0; k < n; k++) {
    const pk = p[offp + k];
    const gk = g[offg + k] + weightDecay * pk;
    const v = momentum * velocity[offv + k] + gk;
    velocity[offv + k] = v;
    p[offp + k] = pk - lr * (nesterov ? gk + momentum * v : v);
  }
}

/**
 * m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
 * p −= (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + eps)      (PyTorch's arrangement of m̂/(√v̂ + eps))
 * L2: g += wd·p first;  decoupled (AdamW): p *= 1 − lr·wd first.
 */
export function adamUpdate(n: number, p: FloatArray, offp: number, g: FloatArray, offg: number,
  m: FloatArray, offm: number, v: FloatArray, offv: number, lr: number, beta1: number,
  beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const sqrtBc2 = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  const l2 = decoupled ? 0 : weightDecay;
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  for (let k = 0; k < n; k++) {
    const pk = p[offp + k] * shrink;
    const gk = g[offg + k] + l2 * pk;
    const mk = beta1 * m[offm + k] + (1 - beta1) * gk;
    const vk = beta2 * v[offv + k] + (1 - beta2) * gk * gk;
    m[offm + k] = mk;
    v[offv + k] = vk;
    p[offp + k] = pk - stepSize * mk / (Math.sqrt(vk) / sqrtBc2 + eps);
  }
}

/** g' = g + wd·p;  h += g'²;  p −= lr·g' / (√h + eps) */
export function adagradUpdate(n: number, p: FloatArray, offp: number, g: FloatArray,
  offg: number, h: FloatArray, offh: number, lr: number, eps: number,
  weightDecay: number): void {
  for (let k = 0; k < n; k++) {
    const pk = p[offp + k];
    const gk = g[offg + k] + weightDecay * pk;
    const hk = h[offh + k] + gk * gk;
    h[offh + k] = hk;
    p[offp + k] = pk - lr * gk / (Math.sqrt(hk) + eps);
  }
}

/** g' = g + wd·p;  s = α·s + (1 − α)·g'²;  p −= lr·g' / (√s + eps) */
export function rmspropUpdate(n: number, p: FloatArray, offp: number, g: FloatArray,
  offg: number, s: FloatArray, offs: number, lr: number, alpha: number, eps: number,
  weightDecay: number): void {
  for (let k = 0; k < n; k++) {
    const pk = p[offp + k];
    const gk = g[offg + k] + weightDecay * pk;
    const sk = alpha * s[offs + k] + (1 - alpha) * gk * gk;
    s[offs + k] = sk;
    p[offp + k] = pk - lr * gk / (Math.sqrt(sk) + eps);
  }
}
