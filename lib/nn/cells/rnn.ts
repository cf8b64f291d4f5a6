// The seed's cell, c_t = f(Wc·c_{t−1} + Wx·x_t + b), as a cell kind: the whole sequence is one
// rnnForward and one rnnBackward call (the backward is the seed's closed form, dU = dC ⊙ f'(C)).
//
// Layer buffers for (T, m):
//   H   = [c0 | C_1 … C_T], n_c × (T+1)·m: C_{t−1} and C_t are overlapping column blocks, and
//         the output C^l is read in place at column offset m with leading dimension (T+1)·m
//   dC  = ∂J/∂C^l, then ∂J/∂U^l in place (rnnBackward may write dU over dC), n_c × T·m
//   dc0 = ∂J/∂c0, n_c × m, discarded: truncated BPTT cuts the gradient at the chunk boundary
// State: h (= c0 of the next chunk), n_c × m.
//
// Flat layout per layer, as before the cell interface (so old optimizer state resumes exactly):
// rnn.weight_ih_l{k} (Wx), rnn.weight_hh_l{k} (Wc), rnn.bias_l{k} (b). PyTorch has two biases
// where we have one: a checkpoint writes bias_ih = b and bias_hh = 0, and reads b = b_ih + b_hh.
import { initRnnLayer } from '../init';
import { layerName } from './torch';
import type { CellKind, LayerSizes } from './types';

const hidden = (s: LayerSizes) => s.hiddenSize;
const at = (template: string, s: LayerSizes) => layerName(template, s.layer);

const WEIGHT_IH = 'rnn.weight_ih_l{k}';
const WEIGHT_HH = 'rnn.weight_hh_l{k}';
const BIAS_IH = 'rnn.bias_ih_l{k}';
const BIAS_HH = 'rnn.bias_hh_l{k}';

export const rnnCell: CellKind = {
  name: 'rnn',
  gates: 1,
  params: [
    { key: 'Wx', name: WEIGHT_IH, rows: hidden, cols: (s) => s.inputSize },
    { key: 'Wc', name: WEIGHT_HH, rows: hidden, cols: hidden },
    { key: 'b', name: 'rnn.bias_l{k}', rows: hidden, cols: () => 1 },
  ],
  states: ['h'],
  buffers: (s, T, m) => ({ H: s.hiddenSize * (T + 1) * m, dC: s.hiddenSize * T * m, dc0: s.hiddenSize * m }),
  gradOutput: 'dC',
  output: (_s, T, m) => ({ buffer: 'H', offset: m, ld: (T + 1) * m }),

  init(rng, kind, s, p) {
    initRnnLayer(rng, kind, s.inputSize, s.hiddenSize, p.Wx, 0, p.Wc, 0, p.b, 0);
  },

  torch: {
    inputWeight: WEIGHT_IH,
    recurrentWeight: WEIGHT_HH,
    tensors: (s) => [
      { name: at(WEIGHT_IH, s), shape: [s.hiddenSize, s.inputSize] },
      { name: at(WEIGHT_HH, s), shape: [s.hiddenSize, s.hiddenSize] },
      { name: at(BIAS_IH, s), shape: [s.hiddenSize] },
      { name: at(BIAS_HH, s), shape: [s.hiddenSize] },
    ],
    save: (s, p) => ({
      [at(WEIGHT_IH, s)]: p.Wx.slice(),
      [at(WEIGHT_HH, s)]: p.Wc.slice(),
      [at(BIAS_IH, s)]: p.b.slice(),
      [at(BIAS_HH, s)]: p.b.slice().fill(0),
    }),
    load(s, t, p) {
      p.Wx.set(t[at(WEIGHT_IH, s)]);
      p.Wc.set(t[at(WEIGHT_HH, s)]);
      // PyTorch: h_t = tanh(W_ih x + b_ih + W_hh h + b_hh); ours has b = b_ih + b_hh. Adding a
      // zero b_hh is skipped so our own files round-trip bit for bit (−0 + 0 is +0).
      const bih = t[at(BIAS_IH, s)], bhh = t[at(BIAS_HH, s)];
      for (let i = 0; i < s.hiddenSize; i++) p.b[i] = bhh[i] === 0 ? bih[i] : bih[i] + bhh[i];
    },
  },

  recordForward(ops, { config, sizes, T, m, params: p, offsets: o, X, buffers: { H }, state }) {
    const nc = sizes.hiddenSize;
    // c0 of this chunk = the state carried from the previous one.
    ops.push(['copyMatrix', nc, m, state.h, 0, m, H, 0, (T + 1) * m]);
    ops.push(['rnnForward', config.activation, sizes.inputSize, nc, T, m, X, 0, p, o.Wx, p, o.Wc, p, o.b, H, 0]);
  },

  recordBackward(ops, { config, sizes, T, m, params: p, grads: g, offsets: o, X, dX, buffers: { H, dC, dc0 } }) {
    const nc = sizes.hiddenSize;
    ops.push(['fill', nc * m, 0, dc0, 0]);
    // dU is written over dC (the kernel allows exactly that alias).
    ops.push(['rnnBackward', config.activation, sizes.inputSize, nc, T, m, X, 0, H, 0, p, o.Wx, p, o.Wc,
      dC, 0, dC, 0, g, o.Wx, g, o.Wc, g, o.b, dX, 0, dc0, 0]);
  },

  recordCarry(ops, { sizes, T, m, buffers: { H }, state }) {
    // state = C_T: the last m columns of H.
    ops.push(['copyMatrix', sizes.hiddenSize, m, H, T * m, (T + 1) * m, state.h, 0, m]);
  },
};
