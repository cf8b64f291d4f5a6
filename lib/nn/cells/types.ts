// What a cell kind declares (DESIGN §9): everything the model, the trainer, the checkpoint code
// and init need to know about one kind of recurrent layer, so that none of them names a cell.
// The vanilla cell (./rnn.ts) is the first implementation; a new kind is one module like it
// plus a registerCell call (./registry.ts).
//
// Per layer k of a stacked model, a cell kind says
//   - its parameters: keys, shapes as functions of the layer's sizes, where they sit in the
//     model's flat parameter array (one entry each, in declaration order), and how they start;
//   - how they map to and from a PyTorch state_dict (nn.RNN / nn.LSTM / nn.GRU names);
//   - its state tensors (each hiddenSize × m, carried from chunk to chunk of a stream);
//   - its workspace buffers for a batch of T steps of m sequences;
//   - how to record its forward, backward and carry ops into a program, and which column view
//     of its buffers is the layer's output (what the layer above and the head read).
import type { FloatArray, Op } from '../../backend/types';
import type { Random } from '../../random';
import type { InitKind } from '../init';
import type { RNNModelConfig } from '../layout';

/** The sizes of one layer of a model: n_x (the vocabulary or input width for layer 0, hiddenSize above it) and n_c. */
export interface LayerSizes {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** k, from 0 at the input */
  readonly layer: number;
}

/** One parameter of a layer: a rows × cols block of the model's flat parameter array. */
export interface CellParam {
  /** The cell's own name for it ('Wx'): the key of LayerParams and LayerContext.offsets. */
  readonly key: string;
  /** Its entry name in RNNModel.entries, '{k}' standing for the layer ('rnn.weight_ih_l{k}'). */
  readonly name: string;
  rows(s: LayerSizes): number;
  cols(s: LayerSizes): number;
}

/** Views of one layer's parameters (or of their gradients) in the flat arrays, by CellParam.key. */
export type LayerParams = Readonly<Record<string, FloatArray>>;

/** A tensor of a PyTorch state_dict: name and shape. */
export interface TorchTensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * How one layer's parameters map to a PyTorch state_dict. A cell whose parameters are the
 * PyTorch tensors themselves uses directTorchMapping (./registry.ts); the vanilla cell keeps one
 * bias where PyTorch has two, so it maps them itself.
 */
export interface CellTorchMapping {
  /**
   * Name templates ('{k}' for the layer) of W_ih and W_hh. A file without our metadata is read
   * by finding the registered kind whose gate count G = rows(W_hh) / cols(W_hh); then
   * hiddenSize = cols(W_hh), the input width = cols(W_ih of layer 0), and the layers are counted.
   */
  readonly inputWeight: string;
  readonly recurrentWeight: string;
  /** The tensors layer s.layer has in a state_dict. */
  tensors(s: LayerSizes): readonly TorchTensorSpec[];
  /** Those tensors from the layer's parameter views: new arrays, never views of the parameters. */
  save(s: LayerSizes, p: LayerParams): Record<string, FloatArray>;
  /** The layer's parameters from those tensors (all present, shaped and finite: the reader checked). */
  load(s: LayerSizes, tensors: Readonly<Record<string, FloatArray>>, p: LayerParams): void;
}

/** A column view of one of a layer's buffers: rows × (T·m) from `offset`, leading dimension `ld`. */
export interface BufferView {
  readonly buffer: string;
  readonly offset: number;
  readonly ld: number;
}

/** Everything one layer's recording functions get, for one batch shape. */
export interface LayerContext {
  readonly config: RNNModelConfig;
  readonly sizes: LayerSizes;
  /** steps T and batch m */
  readonly T: number;
  readonly m: number;
  /** The model's flat parameter and gradient arrays (gradients accumulate: the model zeroes them once per step). */
  readonly params: FloatArray;
  readonly grads: FloatArray;
  /** Where each parameter (by CellParam.key) starts in params and grads. */
  readonly offsets: Readonly<Record<string, number>>;
  /** The layer's input: n_x × T·m contiguous (leading dimension T·m), or T·m token ids. */
  readonly X: FloatArray | Int32Array;
  /**
   * Where ∂J/∂X accumulates (+=), n_x × T·m: the gradOutput buffer of the layer below, zeroed by
   * the model. Null for the first layer, whose input (ids or data) needs no gradient.
   */
  readonly dX: FloatArray | null;
  /** The buffers the cell declared for (T, m), by name. */
  readonly buffers: Readonly<Record<string, FloatArray>>;
  /** The carried state by state name, each hiddenSize × m: read by recordForward, written by recordCarry. */
  readonly state: Readonly<Record<string, FloatArray>>;
}

export interface CellKind {
  /** The name configs and checkpoints store ('rnn', 'lstm', 'gru'). */
  readonly name: string;
  /** G: row blocks of the stacked gate matrices (1 for the vanilla cell, 4 for an LSTM, 3 for a GRU). */
  readonly gates: number;
  /** A layer's parameters, in their order in the flat layout. */
  readonly params: readonly CellParam[];
  /**
   * The state tensors of a layer, each hiddenSize × m ('h'; an LSTM has 'h' and 'c'). The first
   * is the one a vanilla checkpoint names state.<T>x<m>.l<k>; see ../workspace.ts.
   */
  readonly states: readonly string[];
  /** The buffers a layer needs for T steps of a batch of m, in elements, by name. */
  buffers(s: LayerSizes, T: number, m: number): Readonly<Record<string, number>>;
  /**
   * The buffer, hiddenSize × T·m contiguous, that holds ∂J/∂(layer output) when recordBackward
   * runs: written by the head for the top layer, accumulated by the layer above otherwise (the
   * model zeroes it first). The cell may overwrite it during its backward.
   */
  readonly gradOutput: string;
  /** The layer's output C^l (hiddenSize × T·m): the layer above and the head read it in place. */
  output(s: LayerSizes, T: number, m: number): BufferView;
  /** Fills a layer's parameters from rng (layers in order; the same seed gives the same weights everywhere). */
  init(rng: Random, kind: InitKind, s: LayerSizes, p: LayerParams): void;
  torch: CellTorchMapping;
  /** Forward over the T steps from ctx.state (the caller zeroes it for a fresh start); leaves the output in place. */
  recordForward(ops: Op[], ctx: LayerContext): void;
  /** Backward after recordForward of the same batch: accumulates into ctx.grads at ctx.offsets and into ctx.dX. */
  recordBackward(ops: Op[], ctx: LayerContext): void;
  /** The state after the last step into ctx.state, for the next chunk of a stream. */
  recordCarry(ops: Op[], ctx: LayerContext): void;
  /** Refuses a config this cell cannot honour (e.g. an activation an LSTM has no use for); throws TypeError/RangeError. */
  checkConfig?(fn: string, config: RNNModelConfig): void;
}
