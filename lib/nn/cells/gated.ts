// The gated cells as cell kinds, PyTorch's definitions exactly (DESIGN §10): nn.LSTM (gates
// i, f, g, o; states h and c) and nn.GRU (gates r, z, n, "reset after"; state h). Gates are row
// blocks of one matrix, so a layer's parameters are PyTorch's four tensors one for one:
//   Wx = rnn.weight_ih_l{k} (G·n_c × n_x)   Wc = rnn.weight_hh_l{k} (G·n_c × n_c)
//   bx = rnn.bias_ih_l{k}   (G·n_c)         bc = rnn.bias_hh_l{k}   (G·n_c)
// Each pass over the sequence is one fused kernel call (lstmForward / lstmBackward, gru…).
//
// Layer buffers for (T, m):
//   H  = [h0 | h_1 … h_T], n_c × (T+1)·m; the output is read in place at offset m, ld (T+1)·m
//   S  = [c0 | c_1 … c_T], n_c × (T+1)·m (LSTM only)
//   G  = the saved gates, 4·n_c × T·m (LSTM: i, f, g, o; GRU: r, z, n and Wc_n·h + bc_n)
//   dH = ∂J/∂h_1..h_T, n_c × T·m (read only by the backward); dG its scratch, 4·n_c × T·m
//   dh0, dc0 = ∂J/∂(initial state), n_c × m, discarded: truncated BPTT cuts at the chunk boundary
import { uniformInit, xavierInit, orthogonalInit } from '../init';
import { directTorchMapping } from './torch';
import type { CellKind, CellParam, LayerSizes } from './types';

const NAMES = { Wx: 'rnn.weight_ih_l{k}', Wc: 'rnn.weight_hh_l{k}', bx: 'rnn.bias_ih_l{k}', bc: 'rnn.bias_hh_l{k}' };

function gatedParams(G: number): CellParam[] {
  const rows = (s: LayerSizes) => G * s.hiddenSize;
  return [
    { key: 'Wx', name: NAMES.Wx, rows, cols: (s) => s.inputSize },
    { key: 'Wc', name: NAMES.Wc, rows, cols: (s) => s.hiddenSize },
    { key: 'bx', name: NAMES.bx, rows, cols: () => 1 },
    { key: 'bc', name: NAMES.bc, rows, cols: () => 1 },
  ];
}

/** A gated kind's parts that do not depend on the gates' equations. */
function gatedKind(name: 'lstm' | 'gru', G: number, states: string[]): Pick<CellKind, 'name' | 'gates' | 'params' | 'states' | 'gradOutput' | 'output' | 'init' | 'torch'> {
  const params = gatedParams(G);
  return {
    name,
    gates: G,
    params,
    states,
    gradOutput: 'dH',
    output: (_s, T, m) => ({ buffer: 'H', offset: m, ld: (T + 1) * m }),
    init(rng, kind, s, p) {
      // PyTorch's default for nn.LSTM / nn.GRU: every weight and bias U(−1/√n_c, 1/√n_c). With
      // xavier / orthogonal, each gate's block of Wx is Xavier and of Wc Xavier / orthogonal.
      const nc = s.hiddenSize, nx = s.inputSize, k = 1 / Math.sqrt(Math.max(1, nc));
      if (kind === 'uniform') {
        uniformInit(rng, p.Wx, k);
        uniformInit(rng, p.Wc, k);
      } else {
        for (let g = 0; g < G; g++) {
          xavierInit(rng, p.Wx, nc, nx, g * nc * nx);
          if (kind === 'orthogonal') orthogonalInit(rng, p.Wc, nc, nc, g * nc * nc);
          else xavierInit(rng, p.Wc, nc, nc, g * nc * nc);
        }
      }
      uniformInit(rng, p.bx, k);
      uniformInit(rng, p.bc, k);
    },
    torch: directTorchMapping(params, { names: NAMES, vectors: ['bx', 'bc'], inputWeight: 'Wx', recurrentWeight: 'Wc' }),
  };
}

export const lstmCell: CellKind = {
  ...gatedKind('lstm', 4, ['h', 'c']),
  buffers: (s, T, m) => {
    const nc = s.hiddenSize;
    return { H: nc * (T + 1) * m, S: nc * (T + 1) * m, G: 4 * nc * T * m, dH: nc * T * m, dG: 4 * nc * T * m, dh0: nc * m, dc0: nc * m };
  },
  recordForward(ops, { sizes, T, m, params: p, offsets: o, X, buffers: { H, S, G }, state }) {
    const nc = sizes.hiddenSize, ld = (T + 1) * m;
    // h0, c0 of this chunk = the state carried from the previous one.
    ops.push(['copyMatrix', nc, m, state.h, 0, m, H, 0, ld]);
    ops.push(['copyMatrix', nc, m, state.c, 0, m, S, 0, ld]);
    ops.push(['lstmForward', sizes.inputSize, nc, T, m, X, 0, p, o.Wx, p, o.Wc, p, o.bx, p, o.bc, H, 0, S, 0, G, 0]);
  },
  recordBackward(ops, { sizes, T, m, params: p, grads: g, offsets: o, X, dX, buffers: { H, S, G, dH, dG, dh0, dc0 } }) {
    ops.push(['lstmBackward', sizes.inputSize, sizes.hiddenSize, T, m, X, 0, p, o.Wx, p, o.Wc, H, 0, S, 0, G, 0, dH, 0, null, 0,
      dG, 0, g, o.Wx, g, o.Wc, g, o.bx, g, o.bc, dX, 0, dh0, 0, dc0, 0]);
  },
  recordCarry(ops, { sizes, T, m, buffers: { H, S }, state }) {
    const nc = sizes.hiddenSize, ld = (T + 1) * m;
    ops.push(['copyMatrix', nc, m, H, T * m, ld, state.h, 0, m]);
    ops.push(['copyMatrix', nc, m, S, T * m, ld, state.c, 0, m]);
  },
  checkConfig: noActivation,
};

export const gruCell: CellKind = {
  ...gatedKind('gru', 3, ['h']),
  buffers: (s, T, m) => {
    const nc = s.hiddenSize;
    return { H: nc * (T + 1) * m, G: 4 * nc * T * m, dH: nc * T * m, dG: 4 * nc * T * m, dh0: nc * m };
  },
  recordForward(ops, { sizes, T, m, params: p, offsets: o, X, buffers: { H, G }, state }) {
    const nc = sizes.hiddenSize;
    ops.push(['copyMatrix', nc, m, state.h, 0, m, H, 0, (T + 1) * m]);
    ops.push(['gruForward', sizes.inputSize, nc, T, m, X, 0, p, o.Wx, p, o.Wc, p, o.bx, p, o.bc, H, 0, G, 0]);
  },
  recordBackward(ops, { sizes, T, m, params: p, grads: g, offsets: o, X, dX, buffers: { H, G, dH, dG, dh0 } }) {
    ops.push(['gruBackward', sizes.inputSize, sizes.hiddenSize, T, m, X, 0, p, o.Wx, p, o.Wc, H, 0, G, 0, dH, 0,
      dG, 0, g, o.Wx, g, o.Wc, g, o.bx, g, o.bc, dX, 0, dh0, 0]);
  },
  recordCarry(ops, { sizes, T, m, buffers: { H }, state }) {
    ops.push(['copyMatrix', sizes.hiddenSize, m, H, T * m, (T + 1) * m, state.h, 0, m]);
  },
  checkConfig: noActivation,
};

/** The gates fix their own nonlinearities: an activation other than the default is refused. */
function noActivation(fn: string, config: { activation: string }): void {
  if (config.activation !== 'tanh') {
    throw new TypeError(`${fn}: activation applies to the vanilla cell only (the gated cells use sigmoid and tanh), got '${config.activation}'`);
  }
}
