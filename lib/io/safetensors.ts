// Reader and writer of the safetensors format (huggingface/safetensors):
//
//   [8 bytes]  N, the header length, unsigned 64-bit little-endian
//   [N bytes]  UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [r, c], "data_offsets": [b, e] },
//                            ..., "__metadata__": { "<key>": "<string>" } }
//   [rest]     the data section; [b, e) is relative to its start; little-endian element bytes
//
// The reader validates every header field, and that the tensors cover the data section exactly,
// before it allocates or copies anything, so a hostile file costs at most its own size.

import { CheckpointError } from './errors';

export type SafetensorsDType =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3'
  | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32'
  | 'I64' | 'U64' | 'F64';

export type TensorData =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface SafeTensor {
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** Elements in row-major order. F16, BF16 and F8 hold raw bit patterns; BOOL holds 0/1 bytes. */
  data: TensorData;
}

export interface DecodedSafetensors {
  /** In data-section order. Each data array is a fresh copy, aligned for its type. */
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export interface DecodeOptions {
  /** Largest accepted header, in bytes (default 100 MB); a bigger claim is refused unread. */
  maxHeaderBytes?: number;
}

type TypedArrayConstructor = { new (length: number): TensorData; readonly name: string };

interface DTypeInfo {
  readonly itemSize: number;
  readonly ctor: TypedArrayConstructor;
}

/** Item size and the typed array that holds each dtype (half and 8-bit floats as raw bits). */
export const DTYPES: Readonly<Record<SafetensorsDType, DTypeInfo>> = {
  BOOL: { itemSize: 1, ctor: Uint8Array },
  U8: { itemSize: 1, ctor: Uint8Array },
  I8: { itemSize: 1, ctor: Int8Array },
  F8_E5M2: { itemSize: 1, ctor: Uint8Array },
  F8_E4M3: { itemSize: 1, ctor: Uint8Array },
  I16: { itemSize: 2, ctor: Int16Array },
  U16: { itemSize: 2, ctor: Uint16Array },
  F16: { itemSize: 2, ctor: Uint16Array },
  BF16: { itemSize: 2, ctor: Uint16Array },
  I32: { itemSize: 4, ctor: Int32Array },
  U32: { itemSize: 4, ctor: Uint32Array },
  F32: { itemSize: 4, ctor: Float32Array },
  I64: { itemSize: 8, ctor: BigInt64Array },
  U64: { itemSize: 8, ctor: BigUint64Array },
  F64: { itemSize: 8, ctor: Float64Array },
};

const METADATA_KEY = '__metadata__';
const DEFAULT_MAX_HEADER_BYTES = 100 * 1024 * 1024;
const TENSOR_FIELDS = ['dtype', 'shape', 'data_offsets'];

// Byte order of this machine: the format is little-endian, typed arrays use the host's order.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === 'string' && hasOwn(DTYPES, value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Sets an own data property; plain assignment of "__proto__" would change the prototype instead. */
function defineEntry(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Reverses each itemSize-byte group in place (host order <-> little-endian on big-endian hosts). */
function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * Number of elements of a shape, or -1 if it is not a finite safe integer.
 * Overflow-safe: any zero dimension makes it 0; otherwise each product is checked before it
 * is formed, so no intermediate exceeds 2^53.
 */
function elementCount(shape: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  let count = 1;
  for (const d of shape) {
    if (count > Math.floor(Number.MAX_SAFE_INTEGER / d)) return -1;
    count *= d;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Encodes tensors and string metadata as one safetensors file.
 *
 * Tensors are laid out by item size (largest first), then by name: with the header padded to
 * a multiple of 8 this puts every tensor at an offset that is a multiple of its item size, so
 * a reader that maps the file can view each one in place. Same input, same bytes.
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, SafeTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Buffer {
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    if (name === METADATA_KEY) {
      throw new RangeError(`encodeSafetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    }
    if (!isPlainObject(t)) throw new TypeError(`encodeSafetensors: tensor "${name}" must be an object`);
    if (!isDType(t.dtype)) {
      throw new TypeError(`encodeSafetensors: tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)}`);
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`encodeSafetensors: tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    const info = DTYPES[t.dtype];
    if (!(t.data instanceof info.ctor)) {
      throw new TypeError(`encodeSafetensors: tensor "${name}": dtype ${t.dtype} needs a ${info.ctor.name}, got ${Object.prototype.toString.call(t.data)}`);
    }
    const count = elementCount(t.shape);
    if (count !== t.data.length) {
      throw new RangeError(`encodeSafetensors: tensor "${name}": shape [${t.shape.join(', ')}] has ${count} elements but data has ${t.data.length}`);
    }
  }
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) throw new TypeError('encodeSafetensors: metadata must be an object of strings');
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new TypeError(`encodeSafetensors: metadata "${key}" must be a string, got ${typeof value}`);
      }
    }
  }

  const order = names.slice().sort((a, b) => {
    const sizeDiff = DTYPES[tensors[b].dtype].itemSize - DTYPES[tensors[a].dtype].itemSize;
    return sizeDiff !== 0 ? sizeDiff : a < b ? -1 : a > b ? 1 : 0;
  });

  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  for (const name of order) {
    const t = tensors[name];
    const end = offset + t.data.byteLength;
    defineEntry(header, name, { dtype: t.dtype, shape: t.shape.slice(), data_offsets: [offset, end] });
    offset = end;
  }

  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // Spaces after the JSON are legal JSON whitespace; they make 8 + N a multiple of 8.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + headerLength + offset);
  out.writeBigUInt64LE(BigInt(headerLength), 0);
  json.copy(out, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  let position = 8 + headerLength;
  for (const name of order) {
    const data = tensors[name].data;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    out.set(bytes, position);
    if (!HOST_IS_LITTLE_ENDIAN) swapBytes(out.subarray(position, position + bytes.length), DTYPES[tensors[name].dtype].itemSize);
    position += bytes.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Finds a key repeated within one JSON object. JSON.parse keeps the last of two equal keys
 * silently; a checkpoint with two tensors of one name is ambiguous, so it must be refused.
 * The text is known to be valid JSON here (JSON.parse accepted it), so this pass only tracks
 * objects, arrays and strings; it is iterative, so deep nesting cannot overflow the stack.
 * Returns a description of the first duplicate, or null.
 */
function findDuplicateKey(text: string): { key: string; where: string } | null {
  interface Frame { isObject: boolean; expectKey: boolean; keys: Set<string>; name: string }
  const stack: Frame[] = [];
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const name = top === undefined ? '' : top.isObject ? lastKey : `${top.name}[]`;
      stack.push({ isObject: c === 0x7b, expectKey: true, keys: new Set(), name });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      if (top !== undefined && top.isObject) top.expectKey = true;
    } else if (c === 0x3a /* : */) {
      if (top !== undefined) top.expectKey = false;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (top !== undefined && top.isObject && top.expectKey) {
        // Decode escapes so "a" and "\u0061" count as the same key, as JSON.parse sees them.
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, where: top.name };
        top.keys.add(key);
        lastKey = key;
      }
      i = j;
    }
  }
  return null;
}

function fail(code: ConstructorParameters<typeof CheckpointError>[0], message: string): never {
  throw new CheckpointError(code, `safetensors: ${message}`);
}

interface Entry { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }

function validateEntry(name: string, value: unknown, dataLength: number): Entry {
  const label = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(value)) fail('BAD_HEADER', `${label}: entry must be an object, got ${JSON.stringify(value)}`);
  for (const key of Object.keys(value)) {
    if (!TENSOR_FIELDS.includes(key)) fail('BAD_HEADER', `${label}: unknown field ${JSON.stringify(key)}`);
  }
  for (const key of TENSOR_FIELDS) {
    if (!hasOwn(value, key)) fail('BAD_HEADER', `${label}: missing field "${key}"`);
  }

  const dtype = value.dtype;
  if (!isDType(dtype)) {
    fail('BAD_DTYPE', `${label}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPES).join(', ')})`);
  }

  const shape = value.shape;
  if (!Array.isArray(shape)) fail('BAD_SHAPE', `${label}: shape must be an array, got ${JSON.stringify(shape)}`);
  shape.forEach((d: unknown, k: number) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail('BAD_SHAPE', `${label}: shape[${k}] must be a non-negative safe integer, got ${JSON.stringify(d)}`);
    }
  });
  const dims = shape as number[];
  const count = elementCount(dims);
  const itemSize = DTYPES[dtype].itemSize;
  if (count < 0 || count > Math.floor(Number.MAX_SAFE_INTEGER / itemSize)) {
    fail('BAD_SHAPE', `${label}: shape [${dims.join(', ')}] has too many elements`);
  }

  const offsets = value.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    fail('BAD_OFFSETS', `${label}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as unknown[];
  for (const [which, v] of [['begin', begin], ['end', end]] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      fail('BAD_OFFSETS', `${label}: data_offsets ${which} must be a non-negative safe integer, got ${JSON.stringify(v)}`);
    }
  }
  const b = begin as number;
  const e = end as number;
  if (e < b) fail('BAD_OFFSETS', `${label}: data_offsets are reversed: [${b}, ${e}]`);
  if (e > dataLength) {
    fail('BAD_OFFSETS', `${label}: data_offsets [${b}, ${e}] reach past the data section (${dataLength} bytes)`);
  }
  const bytes = count * itemSize;
  if (bytes !== e - b) {
    fail('SIZE_MISMATCH', `${label}: shape [${dims.join(', ')}] of ${dtype} needs ${bytes} bytes but data_offsets [${b}, ${e}] hold ${e - b}`);
  }
  return { name, dtype, shape: dims.slice(), begin: b, end: e };
}

/** Decodes a safetensors file; throws CheckpointError for anything malformed. */
export function decodeSafetensors(buf: Uint8Array, options: DecodeOptions = {}): DecodedSafetensors {
  if (!(buf instanceof Uint8Array)) throw new TypeError('decodeSafetensors: buf must be a Uint8Array or Buffer');
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (!Number.isSafeInteger(maxHeaderBytes) || maxHeaderBytes < 2) {
    throw new RangeError(`decodeSafetensors: maxHeaderBytes must be an integer >= 2, got ${maxHeaderBytes}`);
  }

  if (buf.length < 8) fail('TRUNCATED', `file is ${buf.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lengthLow = view.getUint32(0, true);
  const lengthHigh = view.getUint32(4, true);
  // Anything with the high word set is over 4 GiB, far past any bound; compare without BigInt.
  if (lengthHigh !== 0 || lengthLow > maxHeaderBytes) {
    const claimed = (BigInt(lengthHigh) << 32n) | BigInt(lengthLow);
    fail('HEADER_TOO_LARGE', `header length ${claimed} is over the limit of ${maxHeaderBytes} bytes`);
  }
  const headerLength = lengthLow;
  if (8 + headerLength > buf.length) {
    fail('TRUNCATED', `header length ${headerLength} reaches past the end of the ${buf.length}-byte file`);
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(8, 8 + headerLength));
  } catch {
    fail('BAD_UTF8', 'header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail('BAD_JSON', `header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) fail('BAD_HEADER', `header must be a JSON object, got ${Array.isArray(header) ? 'an array' : JSON.stringify(header)}`);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) {
    fail('DUPLICATE_NAME', duplicate.where === ''
      ? `tensor name ${JSON.stringify(duplicate.key)} appears twice in the header`
      : `key ${JSON.stringify(duplicate.key)} appears twice in ${JSON.stringify(duplicate.where)}`);
  }

  const metadata: Record<string, string> = {};
  if (hasOwn(header, METADATA_KEY)) {
    const raw = header[METADATA_KEY];
    if (!isPlainObject(raw)) fail('BAD_METADATA', `${METADATA_KEY} must be an object, got ${JSON.stringify(raw)}`);
    for (const [key, value] of Object.entries(raw)) {
      if (typeof value !== 'string') {
        fail('BAD_METADATA', `${METADATA_KEY} ${JSON.stringify(key)} must be a string, got ${JSON.stringify(value)}`);
      }
      defineEntry(metadata, key, value);
    }
  }

  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    entries.push(validateEntry(name, value, dataLength));
  }

  // The tensors, sorted by position, must tile [0, dataLength) exactly: no shared bytes
  // (a write through one would change another), no unexplained bytes.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: Entry | undefined;
  for (const entry of entries) {
    if (entry.begin < cursor) {
      fail('OVERLAP', `tensor ${JSON.stringify(entry.name)} [${entry.begin}, ${entry.end}) overlaps tensor ${JSON.stringify(previous?.name)} which ends at ${cursor}`);
    }
    if (entry.begin > cursor) {
      fail('HOLE', `bytes [${cursor}, ${entry.begin}) of the data section belong to no tensor (before tensor ${JSON.stringify(entry.name)})`);
    }
    cursor = entry.end;
    previous = entry;
  }
  if (cursor !== dataLength) {
    fail('TRAILING_DATA', `bytes [${cursor}, ${dataLength}) at the end of the data section belong to no tensor`);
  }

  // Only now, with every size checked against the file, is anything allocated.
  const tensors = new Map<string, SafeTensor>();
  for (const entry of entries) {
    const info = DTYPES[entry.dtype];
    const data = new info.ctor((entry.end - entry.begin) / info.itemSize);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    bytes.set(buf.subarray(dataStart + entry.begin, dataStart + entry.end));
    if (!HOST_IS_LITTLE_ENDIAN) swapBytes(bytes, info.itemSize);
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return { tensors, metadata };
}
