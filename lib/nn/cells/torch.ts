// PyTorch state_dict names of a cell's parameters: the '{k}' templates and the mapping for cells
// whose parameters are PyTorch's tensors one for one.
import type { FloatArray } from '../../backend/types';
import type { CellKind, CellTorchMapping, LayerSizes, TorchTensorSpec } from './types';

/** A template's name for layer k: 'rnn.weight_hh_l{k}' → 'rnn.weight_hh_l0'. */
export function layerName(template: string, layer: number): string {
  return template.replace('{k}', String(layer));
}

/**
 * The PyTorch mapping of a cell whose parameters are the state_dict's tensors one for one
 * (PyTorch's LSTM and GRU: weight_ih, weight_hh, bias_ih, bias_hh as they are). `names` gives
 * each parameter key its state_dict name template; the keys in `vectors` are 1-D tensors there
 * (biases), the others rows × cols; `inputWeight` and `recurrentWeight` are the keys of W_ih and W_hh.
 */
export function directTorchMapping(params: CellKind['params'], o: {
  names: Readonly<Record<string, string>>; vectors: readonly string[]; inputWeight: string; recurrentWeight: string;
}): CellTorchMapping {
  const specs = (s: LayerSizes): Array<TorchTensorSpec & { key: string }> => params.map((p) => ({
    key: p.key,
    name: layerName(o.names[p.key], s.layer),
    shape: o.vectors.includes(p.key) ? [p.rows(s)] : [p.rows(s), p.cols(s)],
  }));
  return {
    inputWeight: o.names[o.inputWeight],
    recurrentWeight: o.names[o.recurrentWeight],
    tensors: (s) => specs(s).map(({ name, shape }) => ({ name, shape })),
    save: (s, p) => Object.fromEntries(specs(s).map(({ key, name }) => [name, p[key].slice()])) as Record<string, FloatArray>,
    load(s, t, p) {
      for (const { key, name } of specs(s)) p[key].set(t[name]);
    },
  };
}
