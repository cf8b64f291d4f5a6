// A training step as a program: the list of kernel calls the backend runs in one go (off the
// main thread on the native backend). The stack is L layers of the model's cell kind, each
// recording its own ops (cells/types.ts), and a linear head, logits y_t = Wy·C_t^L + by. This
// file knows the stack and the head; it never names a cell.
//
// Dropout (dropout.ts), in training steps only: the output of layer l is copied into the
// contiguous input X of layer l + 1 anyway, so the mask multiplies that copy (X ⊙= mask); with
// headDropout the head reads a masked copy of the top output instead of the output in place. In
// the backward the same mask multiplies ∂J/∂X once the layer above has accumulated it.
import type { FloatArray, Op } from '../backend/types';
import type { Sequence } from '../tensor';
import { inputArray, type ModelInput, type ModelTarget } from './batch';
import type { CellKind, LayerContext } from './cells/types';
import { maskOp } from './dropout';
import { dropoutOf, type ModelLayout, type RNNModelConfig } from './layout';
import type { Workspace } from './workspace';

/** What recording reads of a model. */
export interface RecordingModel {
  readonly config: RNNModelConfig;
  readonly cell: CellKind;
  readonly layout: ModelLayout;
  readonly params: FloatArray;
  readonly grads: FloatArray;
}

/**
 * Layer l's view of the step: its input is the model's input (l = 0) or the copy of the output
 * below; recordCarry, which reads no input, passes null.
 */
function layerContext(model: RecordingModel, ws: Workspace, input: ModelInput | null, l: number): LayerContext {
  const { config, cell, layout } = model;
  return {
    config, sizes: layout.layers[l].sizes, T: ws.steps, m: ws.batch, params: model.params, grads: model.grads,
    offsets: layout.layers[l].offsets,
    X: l === 0 && input !== null ? inputArray(config, input) : ws.layers[l].X,
    dX: l === 0 ? null : ws.layers[l - 1].buffers[cell.gradOutput],
    buffers: ws.layers[l].buffers, state: ws.layers[l].state,
  };
}

/** The output C^l of layer l as (array, offset, ld). */
function outputOf(model: RecordingModel, ws: Workspace, l: number): { data: FloatArray; offset: number; ld: number } {
  const view = model.cell.output(model.layout.layers[l].sizes, ws.steps, ws.batch);
  return { data: ws.layers[l].buffers[view.buffer], offset: view.offset, ld: view.ld };
}

/** Whether the output of layer l is dropped in this step: a training step and p > 0. */
function drops(model: RecordingModel, ws: Workspace, l: number): boolean {
  return ws.dropoutStep !== null && dropoutOf(model.config, l) > 0;
}

/**
 * What the head reads: the top layer's output in place, or (headDropout in a training step) its
 * masked copy in ws.headInput.
 */
function headInputOf(model: RecordingModel, ws: Workspace): { data: FloatArray; offset: number; ld: number } {
  const L = model.config.numLayers;
  return drops(model, ws, L - 1) ? { data: ws.headInput, offset: 0, ld: ws.steps * ws.batch } : outputOf(model, ws, L - 1);
}

/**
 * Records the forward pass and the loss: every layer (from the carried state, or zeros when
 * resetState), the logits, and — given a target — the loss sum into scalars[0] with ∂J/∂logits
 * left in ws.logits. `count` normalizes the loss (mean per token / per element). Without a
 * target the logits stay in ws.logits.
 *
 * `dropoutStep`: null records no dropout (inference, evaluation); a step number k records the
 * drawing of training step k's masks into the workspace (a training one) and their use in the
 * forward; recordBackward then applies the same masks. A model without dropout records the same
 * ops either way.
 */
export function recordForward(model: RecordingModel, ops: Op[], ws: Workspace, input: ModelInput, target: ModelTarget | null,
  count: number, resetState: boolean, dropoutStep: number | null = null): void {
  const { config, cell, layout, params: p } = model;
  const { numLayers: L, hiddenSize: nc, outputSize: V } = config;
  const T = ws.steps, m = ws.batch, TM = T * m;
  ws.dropoutStep = dropoutStep;
  for (let l = 0; l < L; l++) {
    if (!drops(model, ws, l)) continue;
    const mask = ws.layers[l].mask;
    if (mask.length !== nc * TM) throw new Error('recordForward: dropout needs a training workspace (RNNModel.workspace)');
    ops.push(maskOp(mask, nc * TM, dropoutOf(config, l), config.seed, dropoutStep as number, l));
  }
  ops.push(['fill', 2, 0, ws.scalars, 0]);
  for (let l = 0; l < L; l++) {
    if (resetState) for (const s of cell.states) ops.push(['fill', nc * m, 0, ws.layers[l].state[s], 0]);
    if (l > 0) {
      const below = outputOf(model, ws, l - 1);
      ops.push(['copyMatrix', nc, TM, below.data, below.offset, below.ld, ws.layers[l].X, 0, TM]);
      // X = C^{l−1} ⊙ mask: zeros, and kept values × 1/(1 − p)
      if (drops(model, ws, l - 1)) ops.push(['mulInPlace', nc * TM, ws.layers[l - 1].mask, 0, ws.layers[l].X, 0]);
    }
    cell.recordForward(ops, layerContext(model, ws, input, l));
  }
  const { weight: hw, bias: hb } = layout.head;
  if (drops(model, ws, L - 1)) {
    const top = outputOf(model, ws, L - 1);
    ops.push(['copyMatrix', nc, TM, top.data, top.offset, top.ld, ws.headInput, 0, TM]);
    ops.push(['mulInPlace', nc * TM, ws.layers[L - 1].mask, 0, ws.headInput, 0]);
  }
  const head = headInputOf(model, ws);
  // logits = Wy·C^L + by, reading C^L in place (or its masked copy)
  ops.push(['gemm', false, false, V, TM, nc, 1, p, hw.offset, nc, head.data, head.offset, head.ld, 0, ws.logits, 0, TM]);
  ops.push(['addBias', V, TM, p, hb.offset, ws.logits, 0, TM]);
  if (target === null) return;
  const inv = count > 0 ? 1 / count : 0;
  if (config.loss === 'cross-entropy') {
    ops.push(['softmaxCrossEntropy', V, TM, ws.logits, 0, TM, target as Int32Array, 0, inv, ws.logits, 0, TM, ws.scalars, 0]);
  } else {
    // J = mean (y − target)²: d = y − target; J·count = Σ d²; ∂J/∂y = 2d/count
    const t = (target as Sequence).data;
    ops.push(['axpy', V * TM, -1, t, 0, ws.logits, 0]);
    ops.push(['sumSquares', V * TM, ws.logits, 0, ws.scalars, 0]);
    ops.push(['scale', V * TM, 2 * inv, ws.logits, 0]);
  }
}

/**
 * Records the backward pass after recordForward: zeroes the gradients, then the head, then BPTT
 * through every layer from the top (each layer's gradient lands in the cell's gradOutput buffer
 * of the layer below), Σ grad² into scalars[1], and finally carries every layer's last state
 * into ws.state for the next chunk. Dropout: the masks recordForward drew (ws.dropoutStep).
 */
export function recordBackward(model: RecordingModel, ops: Op[], ws: Workspace, input: ModelInput): void {
  const { config, cell, layout, params: p, grads: g } = model;
  const { numLayers: L, hiddenSize: nc, outputSize: V } = config;
  const T = ws.steps, m = ws.batch, TM = T * m;
  ops.push(['fill', g.length, 0, g, 0]);
  const { weight: hw, bias: hb } = layout.head;
  const head = headInputOf(model, ws);
  const dTop = ws.layers[L - 1].buffers[cell.gradOutput];
  // dWy += dY·C^Lᵀ, dby += rowsum(dY), ∂J/∂C^L = Wyᵀ·dY (written, not accumulated)
  ops.push(['gemm', false, true, V, nc, TM, 1, ws.logits, 0, TM, head.data, head.offset, head.ld, 1, g, hw.offset, nc]);
  ops.push(['rowSum', V, TM, ws.logits, 0, TM, g, hb.offset]);
  ops.push(['gemm', true, false, nc, TM, V, 1, p, hw.offset, nc, ws.logits, 0, TM, 0, dTop, 0, TM]);
  // through the head's dropout: ∂J/∂C^L = mask ⊙ ∂J/∂(masked copy)
  if (drops(model, ws, L - 1)) ops.push(['mulInPlace', nc * TM, ws.layers[L - 1].mask, 0, dTop, 0]);
  for (let l = L - 1; l >= 0; l--) {
    const ctx = layerContext(model, ws, input, l);
    // the layer accumulates ∂J/∂X into the gradient of the output below
    if (ctx.dX) ops.push(['fill', nc * TM, 0, ctx.dX, 0]);
    cell.recordBackward(ops, ctx);
    // through the dropout between the layers: ∂J/∂C^{l−1} = mask ⊙ ∂J/∂X
    if (ctx.dX && drops(model, ws, l - 1)) ops.push(['mulInPlace', nc * TM, ws.layers[l - 1].mask, 0, ctx.dX, 0]);
  }
  ops.push(['sumSquares', g.length, g, 0, ws.scalars, 1]);
  recordCarry(model, ops, ws);
}

/** Every layer's state after the last step into ws.state, for the next chunk of a stream. */
export function recordCarry(model: RecordingModel, ops: Op[], ws: Workspace): void {
  for (let l = 0; l < model.config.numLayers; l++) model.cell.recordCarry(ops, layerContext(model, ws, null, l));
}
