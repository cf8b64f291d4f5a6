// Cell kinds by name: the built-in ones, and any a program registers. A config or checkpoint
// stores a kind's name; the model looks the kind up here (or is handed the object itself).
import { invalidType } from '../../backend/errors';
import { isPositiveInt, isRecord, listOf, nearest } from '../predicates';
import { gruCell, lstmCell } from './gated';
import { rnnCell } from './rnn';
import { layerName } from './torch';
import type { CellKind } from './types';

const registry = new Map<string, CellKind>();

/** The kind a model has when none is named, and that configs from before cells were plug-ins mean. */
export const DEFAULT_CELL = rnnCell.name;

const FUNCTIONS = ['buffers', 'output', 'init', 'recordForward', 'recordBackward', 'recordCarry'] as const;

/** Checks that `kind` has the shape of a CellKind (the parts the model calls), naming the first wrong part. */
export function checkCellKind(fn: string, kind: unknown): CellKind {
  const name = 'cell';
  if (!isRecord(kind)) throw invalidType(fn, name, 'a cell kind name or a CellKind object', kind);
  if (typeof kind.name !== 'string' || !/^[A-Za-z][\w-]*$/.test(kind.name)) {
    throw invalidType(fn, `${name}.name`, 'a name of letters, digits, _ and - (starting with a letter)', kind.name);
  }
  if (!isPositiveInt(kind.gates)) throw invalidType(fn, `${name}.gates`, 'a positive integer (G)', kind.gates);
  if (!Array.isArray(kind.params) || kind.params.length === 0) throw invalidType(fn, `${name}.params`, 'a non-empty array of parameters', kind.params);
  const keys = new Set<string>();
  for (const [i, p] of (kind.params as unknown[]).entries()) {
    if (!isRecord(p) || typeof p.key !== 'string' || typeof p.name !== 'string' || !p.name.includes('{k}') ||
      typeof p.rows !== 'function' || typeof p.cols !== 'function') {
      throw invalidType(fn, `${name}.params[${i}]`, "{ key, name (with '{k}'), rows(sizes), cols(sizes) }", p);
    }
    if (keys.has(p.key)) throw invalidType(fn, `${name}.params[${i}].key`, 'a key no other parameter has', p.key);
    keys.add(p.key);
  }
  if (!Array.isArray(kind.states) || kind.states.length === 0 || !kind.states.every((s) => typeof s === 'string' && /^[A-Za-z]\w*$/.test(s)) ||
    new Set(kind.states).size !== kind.states.length) {
    throw invalidType(fn, `${name}.states`, 'a non-empty array of distinct state names', kind.states);
  }
  if (typeof kind.gradOutput !== 'string') throw invalidType(fn, `${name}.gradOutput`, 'the name of a buffer', kind.gradOutput);
  for (const f of FUNCTIONS) {
    if (typeof kind[f] !== 'function') throw invalidType(fn, `${name}.${f}`, 'a function', kind[f]);
  }
  const torch = kind.torch;
  if (!isRecord(torch) || typeof torch.inputWeight !== 'string' || typeof torch.recurrentWeight !== 'string' ||
    typeof torch.tensors !== 'function' || typeof torch.save !== 'function' || typeof torch.load !== 'function') {
    throw invalidType(fn, `${name}.torch`, '{ inputWeight, recurrentWeight, tensors, save, load }', torch);
  }
  return kind as unknown as CellKind;
}

/**
 * Makes a cell kind known by its name, so configs and checkpoints that name it resolve. Registering
 * the same object again is allowed; another kind under a taken name is a TypeError.
 */
export function registerCell(kind: CellKind): CellKind {
  const checked = checkCellKind('registerCell', kind);
  const existing = registry.get(checked.name);
  if (existing !== undefined && existing !== checked) {
    throw new TypeError(`registerCell: a cell kind named '${checked.name}' is already registered`);
  }
  registry.set(checked.name, checked);
  return checked;
}

/** The names of the registered cell kinds, in registration order. */
export function cellNames(): string[] {
  return [...registry.keys()];
}

/** The registered kind of that name, or undefined. */
export function findCell(name: string): CellKind | undefined {
  return registry.get(name);
}

/** A cell option — a registered name or a CellKind object — as a kind; TypeError naming the choices. */
export function resolveCell(fn: string, spec: unknown): CellKind {
  if (typeof spec === 'string') {
    const found = registry.get(spec);
    if (found) return found;
    const guess = nearest(spec, cellNames());
    throw new TypeError(`${fn}: cell must be ${listOf(cellNames())} or a CellKind object, got '${spec}'` +
      (guess !== null ? ` (did you mean '${guess}'?)` : '') + ' (registerCell makes another kind known)');
  }
  const kind = checkCellKind(fn, spec);
  // A checkpoint stores only the name: under a registered name it would load as the other kind.
  const registered = registry.get(kind.name);
  if (registered !== undefined && registered !== kind) {
    throw new TypeError(`${fn}: cell.name '${kind.name}' is the name of a registered kind, not of this object; give it a name of its own`);
  }
  return kind;
}

/**
 * The kind, sizes and layer count of a state_dict without our metadata: the registered kind whose
 * gate count G matches rows(W_hh of layer 0) = G·cols(W_hh of layer 0). Null when none does.
 */
export function inferCell(shapeOf: (name: string) => readonly number[] | undefined):
  { kind: CellKind; inputSize: number; hiddenSize: number; numLayers: number; recurrentWeight: string } | null {
  for (const kind of registry.values()) {
    const hh = shapeOf(layerName(kind.torch.recurrentWeight, 0));
    const ih = shapeOf(layerName(kind.torch.inputWeight, 0));
    if (!hh || !ih || hh.length !== 2 || ih.length !== 2 || hh[1] < 1 || hh[0] !== kind.gates * hh[1]) continue;
    let numLayers = 0;
    while (shapeOf(layerName(kind.torch.recurrentWeight, numLayers)) !== undefined) numLayers++;
    return { kind, inputSize: ih[1], hiddenSize: hh[1], numLayers, recurrentWeight: layerName(kind.torch.recurrentWeight, 0) };
  }
  return null;
}

/** For messages: the W_ih and W_hh names of layer 0 that inferCell looks for, per registered kind. */
export function inferableNames(): string {
  return [...registry.values()].map((k) => `${k.name}: ${layerName(k.torch.inputWeight, 0)} and ${layerName(k.torch.recurrentWeight, 0)}`).join('; ');
}

registerCell(rnnCell);
registerCell(lstmCell);
registerCell(gruCell);
