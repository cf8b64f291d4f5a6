// A cell kind declared here, in the test file, with nothing else changed: the model, the trainer
// (snapshot/restore), the checkpoint writer and reader and inference all work with it through
// its declaration alone (DESIGN §9). The kind is deliberately simple and built from existing
// kernels: y_t = W·x_t (one parameter, no recurrence), two carried states — h, the last output,
// and c, the h of the chunk before — which nothing reads but which are carried, snapshotted
// and checkpointed as an LSTM's h and c will be.
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  backends, CheckpointError, decodeCheckpoint, decodeSafetensors, directTorchMapping, encodeCheckpoint, encodeSafetensors,
  loadCheckpoint, registerCell, RNNModel, saveCheckpoint, Trainer, type BackendName, type CellKind,
} from '../lib';

const BACKENDS: BackendName[] = backends.available();

const linearCell: CellKind = {
  name: 'test-linear',
  gates: 1,
  params: [{ key: 'W', name: 'lin.weight_l{k}', rows: (s) => s.hiddenSize, cols: (s) => s.inputSize }],
  states: ['h', 'c'],
  buffers: (s, T, m) => ({ Y: s.hiddenSize * T * m, dY: s.hiddenSize * T * m }),
  gradOutput: 'dY',
  // Y is contiguous: the layer above and the head read it with leading dimension T·m.
  output: (_s, T, m) => ({ buffer: 'Y', offset: 0, ld: T * m }),
  init(rng, _kind, s, p) {
    for (let i = 0; i < p.W.length; i++) p.W[i] = rng.uniform(-1, 1) / Math.sqrt(s.inputSize);
  },
  torch: {
    // One weight: it stands for both (a file without metadata never holds this kind's names).
    inputWeight: 'lin.weight_l{k}',
    recurrentWeight: 'lin.weight_l{k}',
    tensors: (s) => [{ name: `lin.weight_l${s.layer}`, shape: [s.hiddenSize, s.inputSize] }],
    save: (s, p) => ({ [`lin.weight_l${s.layer}`]: p.W.slice() }),
    load(s, t, p) { p.W.set(t[`lin.weight_l${s.layer}`]); },
  },
  recordForward(ops, { sizes: { inputSize: nx, hiddenSize: nc }, T, m, params, offsets, X, buffers: { Y } }) {
    const TM = T * m;
    // Y = W·X; for ids, W·onehot is the gather of W's columns
    if (X instanceof Int32Array) ops.push(['gatherColumns', nc, nx, TM, params, offsets.W, nx, X, 0, Y, 0, TM, false]);
    else ops.push(['gemm', false, false, nc, TM, nx, 1, params, offsets.W, nx, X, 0, TM, 0, Y, 0, TM]);
  },
  recordBackward(ops, { sizes: { inputSize: nx, hiddenSize: nc }, T, m, params, grads, offsets, X, dX, buffers: { dY } }) {
    const TM = T * m;
    // dW += dY·Xᵀ (a scatter-add for ids); dX += Wᵀ·dY
    if (X instanceof Int32Array) ops.push(['scatterAddColumns', nc, nx, TM, dY, 0, TM, X, 0, grads, offsets.W, nx]);
    else ops.push(['gemm', false, true, nc, nx, TM, 1, dY, 0, TM, X, 0, TM, 1, grads, offsets.W, nx]);
    if (dX) ops.push(['gemm', true, false, nx, TM, nc, 1, params, offsets.W, nx, dY, 0, TM, 1, dX, 0, TM]);
  },
  recordCarry(ops, { sizes: { hiddenSize: nc }, T, m, buffers: { Y }, state }) {
    ops.push(['copy', nc * m, state.h, 0, state.c, 0]);
    ops.push(['copyMatrix', nc, m, Y, (T - 1) * m, T * m, state.h, 0, m]);
  },
};

const V = 5;
const TOKENS = new Int32Array(240).map((_, i) => (i * 3 + (i >> 2)) % V);
const FIT = { batchSize: 2, seqLength: 6 };

describe('44 a cell kind declared in the test file', () => {
  before(() => { registerCell(linearCell); });
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-cell-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  for (const name of BACKENDS) {
    it(`[${name}] a 2-layer model of it: layout from its declaration, gradients equal finite differences (float64)`, () => {
      const model = new RNNModel({ cell: linearCell, vocabSize: V, hiddenSize: 3, numLayers: 2, dtype: 'float64', backend: name, seed: 2 });
      expect(model.config.cell).to.equal('test-linear');
      expect(model.entries.map((e) => [e.name, e.rows, e.cols])).to.deep.equal([
        ['lin.weight_l0', 3, V], ['lin.weight_l1', 3, 3], ['head.weight', V, 3], ['head.bias', V, 1],
      ]);
      const input = { ids: Int32Array.of(0, 4, 2, 2, 1, 3), steps: 3, batch: 2 };
      const target = Int32Array.of(1, 2, -1, 0, 4, 3);
      model.lossAndGradients(input, target);
      const analytic = model.grads.slice();
      const h = 1e-5;
      let worst = 0;
      for (let i = 0; i < model.size; i++) {
        const p0 = model.params[i];
        model.params[i] = p0 + h; const up = model.loss(input, target);
        model.params[i] = p0 - h; const down = model.loss(input, target);
        model.params[i] = p0;
        const numeric = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(numeric - analytic[i]) / Math.max(Math.abs(numeric), Math.abs(analytic[i]), 1e-3));
      }
      expect(worst).to.be.below(1e-6);
      // every layer's weight has a gradient: layer 1's reached layer 0 through dX
      expect(model.view('lin.weight_l0', 'grads').some((g) => g !== 0)).to.equal(true);
    });

    it(`[${name}] forward: the logits are Wy·W1·W0·onehot(x) + by, computed here from the definition`, () => {
      const model = new RNNModel({ cell: linearCell, vocabSize: V, hiddenSize: 3, numLayers: 2, dtype: 'float64', backend: name, seed: 3 });
      const ids = Int32Array.of(4, 0, 1);
      const { logits, state } = model.forward({ ids, steps: 3, batch: 1 });
      const W0 = model.view('lin.weight_l0'), W1 = model.view('lin.weight_l1'), Wy = model.view('head.weight'), by = model.view('head.bias');
      for (let t = 0; t < 3; t++) {
        const y0 = [0, 1, 2].map((i) => W0[i * V + ids[t]]);
        const y1 = [0, 1, 2].map((i) => [0, 1, 2].reduce((s, j) => s + W1[i * 3 + j] * y0[j], 0));
        for (let v = 0; v < V; v++) {
          const want = by[v] + [0, 1, 2].reduce((s, j) => s + Wy[v * 3 + j] * y1[j], 0);
          expect(logits.data[v * 3 + t]).to.be.closeTo(want, 1e-14);
        }
        // the state after the last step: h of each layer is its last output
        if (t === 2) y1.forEach((x, i) => expect(state[1].h.data[i], `h of layer 1 [${i}]`).to.be.closeTo(x, 1e-14));
      }
      expect(Object.keys(state[0]).sort()).to.deep.equal(['c', 'h']);
    });

    it(`[${name}] the Trainer trains it; snapshot and restore carry both of its states under their names`, async () => {
      const model = new RNNModel({ cell: 'test-linear', vocabSize: V, hiddenSize: 4, numLayers: 2, backend: name, seed: 1 });
      const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-2 });
      const before = model.params.slice();
      const r = await trainer.fit(TOKENS, { ...FIT, steps: 1 });
      expect(r.steps).to.equal(1);
      expect(Number.isFinite(r.loss) && r.loss > 0).to.equal(true);
      expect(Array.from(model.params)).to.not.deep.equal(Array.from(before));
      const s1 = trainer.snapshot();
      expect(Object.keys(s1.hiddenStates).sort()).to.deep.equal(['state.6x2.l0', 'state.6x2.l0.c', 'state.6x2.l1', 'state.6x2.l1.c']);
      await trainer.fit(TOKENS, { ...FIT, steps: 2 });
      const s2 = trainer.snapshot();
      // c carries the h of the chunk before
      expect(Array.from(s2.hiddenStates['state.6x2.l1.c'])).to.deep.equal(Array.from(s1.hiddenStates['state.6x2.l1']));
      expect(Array.from(s2.hiddenStates['state.6x2.l1'])).to.not.deep.equal(Array.from(s1.hiddenStates['state.6x2.l1']));
      const other = new Trainer(new RNNModel({ cell: 'test-linear', vocabSize: V, hiddenSize: 4, numLayers: 2, backend: name, seed: 1 }), { optimizer: 'adam' });
      other.restore(s2);
      expect(Array.from(other.model.workspace(6, 2).state[1].c)).to.deep.equal(Array.from(s2.hiddenStates['state.6x2.l1.c']));
      expect(() => other.restore({ ...s2, hiddenStates: { 'state.6x2.l0.x': new Float32Array(8) } })).to.throw(RangeError, /unknown hidden state 'state\.6x2\.l0\.x'/);
    });

    it(`[${name}] a checkpoint of it: its own tensor names, config.cell, both states; loading resumes exactly`, async () => {
      const make = () => new RNNModel({ cell: 'test-linear', vocabSize: V, hiddenSize: 4, numLayers: 2, backend: name, seed: 7 });
      const options = { optimizer: 'adam' as const, lr: 1e-2 };
      const a = new Trainer(make(), options);
      await a.fit(TOKENS, { ...FIT, steps: 3 });
      const file = path.join(dir, 'linear.safetensors');
      await saveCheckpoint(file, { model: a.model, trainer: a.snapshot() });
      const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file));
      expect([...tensors.keys()].sort()).to.deep.equal([
        'head.bias', 'head.weight', 'lin.weight_l0', 'lin.weight_l1', 'optim.exp_avg', 'optim.exp_avg_sq',
        'state.6x2.l0', 'state.6x2.l0.c', 'state.6x2.l1', 'state.6x2.l1.c',
      ]);
      expect(JSON.parse(metadata.config).cell).to.equal('test-linear');
      const loaded = await loadCheckpoint(file, { backend: name });
      expect(loaded.model.cell).to.equal(linearCell);
      expect(Buffer.from(loaded.model.params.buffer).equals(Buffer.from(a.model.params.buffer))).to.equal(true);
      const b = new Trainer(loaded.model, options);
      b.restore(loaded.trainer!);
      const la: number[] = [], lb: number[] = [];
      await a.fit(TOKENS, { ...FIT, steps: 6, onStep: (s) => { la.push(s.loss); } });
      await b.fit(TOKENS, { ...FIT, steps: 6, onStep: (s) => { lb.push(s.loss); } });
      expect(lb).to.deep.equal(la);
      expect(Buffer.from(b.model.params.buffer).equals(Buffer.from(a.model.params.buffer))).to.equal(true);
    });
  }

  it('an unregistered kind object: saving verifies with it; loading needs it in options.cells', async () => {
    const unregistered: CellKind = { ...linearCell, name: 'test-linear-unregistered' };
    const model = new RNNModel({ cell: unregistered, vocabSize: V, hiddenSize: 3, backend: 'ts', seed: 1 });
    const file = path.join(dir, 'u.safetensors');
    await saveCheckpoint(file, { model });
    let caught: unknown;
    try { await loadCheckpoint(file, { backend: 'ts' }); } catch (err) { caught = err; }
    expect(caught).to.be.instanceOf(CheckpointError);
    expect((caught as Error).message).to.match(/config\.cell 'test-linear-unregistered' is not a known cell kind \(register it with registerCell, or pass it in options\.cells\)/);
    const loaded = decodeCheckpoint(encodeCheckpoint({ model }), { backend: 'ts', cells: [unregistered] });
    expect(loaded.model.cell).to.equal(unregistered);
    expect(Array.from(loaded.model.params)).to.deep.equal(Array.from(model.params));
  });

  it('a state_dict without metadata is read as the registered kind whose G = rows(W_hh) / cols(W_hh)', () => {
    // A gated kind with G = 2 and PyTorch's four tensors as they are (as an LSTM's or GRU's will
    // be). Only loading is exercised, so its ops are the linear cell's (never run here).
    const G = 2;
    const params: CellKind['params'] = [
      { key: 'Wx', name: 'rnn.weight_ih_l{k}', rows: (s) => G * s.hiddenSize, cols: (s) => s.inputSize },
      { key: 'Wc', name: 'rnn.weight_hh_l{k}', rows: (s) => G * s.hiddenSize, cols: (s) => s.hiddenSize },
      { key: 'bx', name: 'rnn.bias_ih_l{k}', rows: (s) => G * s.hiddenSize, cols: () => 1 },
      { key: 'bc', name: 'rnn.bias_hh_l{k}', rows: (s) => G * s.hiddenSize, cols: () => 1 },
    ];
    const gated: CellKind = {
      ...linearCell, name: 'test-gated', gates: G, params,
      init() { /* loaded, never initialized here */ },
      torch: directTorchMapping(params, {
        names: { Wx: 'rnn.weight_ih_l{k}', Wc: 'rnn.weight_hh_l{k}', bx: 'rnn.bias_ih_l{k}', bc: 'rnn.bias_hh_l{k}' },
        vectors: ['bx', 'bc'], inputWeight: 'Wx', recurrentWeight: 'Wc',
      }),
    };
    registerCell(gated);
    const H = 3, L = 2;
    let next = 0;
    const t = (shape: number[]) => ({ dtype: 'F64' as const, shape, data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next++ % 17) / 16 - 0.5) });
    const tensors: Record<string, ReturnType<typeof t>> = {};
    for (let k = 0; k < L; k++) {
      tensors[`rnn.weight_ih_l${k}`] = t([G * H, k === 0 ? V : H]);
      tensors[`rnn.weight_hh_l${k}`] = t([G * H, H]);
      tensors[`rnn.bias_ih_l${k}`] = t([G * H]);
      tensors[`rnn.bias_hh_l${k}`] = t([G * H]);
    }
    tensors['head.weight'] = t([V, H]);
    tensors['head.bias'] = t([V]);
    const loaded = decodeCheckpoint(encodeSafetensors(tensors), { backend: 'ts' });
    expect(loaded.config).to.include({ cell: 'test-gated', hiddenSize: H, inputSize: V, numLayers: L, outputSize: V, dtype: 'float64' });
    // the parameters are the tensors one for one, in the kind's layout order
    const want = Object.keys(tensors).sort((a, b) => loaded.model.entry(a).offset - loaded.model.entry(b).offset);
    expect(Array.from(loaded.model.params)).to.deep.equal(want.flatMap((n) => Array.from(tensors[n].data)));
    // and written back they are the same tensors
    const again = decodeSafetensors(encodeCheckpoint({ model: loaded.model })).tensors;
    for (const [n, x] of Object.entries(tensors)) expect(Array.from(again.get(n)!.data as Float64Array), n).to.deep.equal(Array.from(x.data));
    // G = 5 matches no registered kind: the error lists what would have been recognised
    const five = { ...tensors, 'rnn.weight_hh_l0': t([5 * H, H]) };
    let caught: unknown;
    try { decodeCheckpoint(encodeSafetensors(five), { backend: 'ts' }); } catch (err) { caught = err; }
    expect(caught).to.be.instanceOf(CheckpointError);
    expect((caught as CheckpointError).code).to.equal('MISSING_TENSOR');
    expect((caught as Error).message).to.match(/no 'config' metadata, and the W_ih \(G·H x n_x\) and W_hh \(G·H x H\) of layer 0 of a known cell kind \(rnn: rnn\.weight_ih_l0 and rnn\.weight_hh_l0; .*test-gated: rnn\.weight_ih_l0 and rnn\.weight_hh_l0/);
  });

  it('registerCell and the cell option refuse what they cannot use, naming it', () => {
    expect(registerCell(linearCell)).to.equal(linearCell); // the same object again is fine
    expect(() => registerCell({ ...linearCell })).to.throw(TypeError, /registerCell: a cell kind named 'test-linear' is already registered/);
    const { recordBackward: _dropped, ...incomplete } = linearCell;
    void _dropped;
    expect(() => registerCell({ ...incomplete, name: 'x' } as CellKind)).to.throw(TypeError, /registerCell: cell\.recordBackward must be a function/);
    expect(() => registerCell({ ...linearCell, name: 'y', states: [] })).to.throw(TypeError, /cell\.states must be a non-empty array/);
    expect(() => registerCell({ ...linearCell, name: 'z', gates: 0 })).to.throw(TypeError, /cell\.gates must be a positive integer/);
    expect(() => new RNNModel({ cell: 'transformer', vocabSize: V, hiddenSize: 3 })).to.throw(TypeError, /new RNNModel: cell must be 'rnn'.* or a CellKind object, got 'transformer' \(registerCell makes another kind known\)/);
    expect(() => new RNNModel({ cell: { ...linearCell, name: 'rnn' }, vocabSize: V, hiddenSize: 3 }))
      .to.throw(TypeError, /new RNNModel: cell\.name 'rnn' is the name of a registered kind, not of this object/);
    expect(() => new RNNModel({ cell: 'rnm', vocabSize: V, hiddenSize: 3 })).to.throw(TypeError, /got 'rnm' \(did you mean 'rnn'\?\)/);
    expect(() => new RNNModel({ cell: 42 as never, vocabSize: V, hiddenSize: 3 })).to.throw(TypeError, /new RNNModel: cell must be a cell kind name or a CellKind object, got 42/);
  });
});
