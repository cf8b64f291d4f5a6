import { expect } from 'chai';
import { CheckpointError, type CheckpointErrorCode } from '../lib/io/errors';
import { decodeSafetensors, encodeSafetensors, DTYPES, type SafeTensor, type SafetensorsDType, type TensorData } from '../lib/io/safetensors';

/** A file from a header text and data bytes; headerLength overrides the true length. */
function build(header: string | object, data: Uint8Array | number = 0, headerLength?: number): Buffer {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = Buffer.alloc(8 + json.length + body.length);
  out.writeBigUInt64LE(BigInt(headerLength ?? json.length), 0);
  json.copy(out, 8);
  out.set(body, 8 + json.length);
  return out;
}

function expectCheckpointError(fn: () => unknown, code: CheckpointErrorCode, ...messageParts: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected CheckpointError ${code}`).to.be.instanceOf(CheckpointError);
  const err = caught as CheckpointError;
  expect(err.code, err.message).to.equal(code);
  for (const part of messageParts) expect(err.message).to.include(part);
}

const f32 = (offsets: [number, number], shape: number[] = [(offsets[1] - offsets[0]) / 4]) =>
  ({ dtype: 'F32', shape, data_offsets: offsets });

function sampleData(dtype: SafetensorsDType, n: number): TensorData {
  const info = DTYPES[dtype];
  const data = new info.ctor(n);
  for (let i = 0; i < n; i++) {
    if (data instanceof BigInt64Array) data[i] = BigInt(i * 7919 - 50000) * 1234567891n;
    else if (data instanceof BigUint64Array) data[i] = BigInt(i) * 0x123456789abcdefn + 0xfedcba987654321n;
    else if (data instanceof Float32Array || data instanceof Float64Array) data[i] = Math.sin(i + 1) * 10 ** (i % 9 - 4);
    else if (dtype === 'BOOL') data[i] = i % 2;
    else data[i] = i * 97 - 300; // wraps into each integer type's range
  }
  return data;
}

describe('60 io: safetensors', () => {
  describe('round trip', () => {
    for (const dtype of Object.keys(DTYPES) as SafetensorsDType[]) {
      it(`${dtype}: values, shape and dtype survive exactly`, () => {
        const data = sampleData(dtype, 12);
        const buf = encodeSafetensors({ x: { dtype, shape: [3, 4], data } });
        const back = decodeSafetensors(buf).tensors.get('x');
        expect(back).to.not.equal(undefined);
        expect(back!.dtype).to.equal(dtype);
        expect(back!.shape).to.deep.equal([3, 4]);
        expect(back!.data).to.be.instanceOf(DTYPES[dtype].ctor);
        expect(back!.data).to.deep.equal(data);
      });
    }

    it('float32 and float64 keep exact bits (NaN payloads, −0, subnormals, ±Infinity)', () => {
      const f64Bits = new BigUint64Array([
        0x7ff8000000000001n, 0xfff4000000000abcn, 0x8000000000000000n, 0x0000000000000001n,
        0x7ff0000000000000n, 0xfff0000000000000n, 0x3fb999999999999an, 0x7fefffffffffffffn,
      ]);
      const f32Bits = new Uint32Array([0x7fc00001, 0xffa00abc, 0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x3dcccccd, 0x7f7fffff]);
      const buf = encodeSafetensors({
        d: { dtype: 'F64', shape: [8], data: new Float64Array(f64Bits.buffer) },
        s: { dtype: 'F32', shape: [2, 2, 2], data: new Float32Array(f32Bits.buffer) },
      });
      const { tensors } = decodeSafetensors(buf);
      const d = tensors.get('d')!.data as Float64Array;
      const s = tensors.get('s')!.data as Float32Array;
      expect(new BigUint64Array(d.buffer, d.byteOffset, d.length)).to.deep.equal(f64Bits);
      expect(new Uint32Array(s.buffer, s.byteOffset, s.length)).to.deep.equal(f32Bits);
    });

    it('empty tensors, scalars (shape []) and a file with no tensors', () => {
      const buf = encodeSafetensors({
        empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
        alsoEmpty: { dtype: 'I64', shape: [3, 0], data: new BigInt64Array(0) },
        scalar: { dtype: 'F64', shape: [], data: new Float64Array([2.5]) },
      });
      const { tensors } = decodeSafetensors(buf);
      expect(tensors.get('empty')!.shape).to.deep.equal([0, 5]);
      expect(tensors.get('empty')!.data.length).to.equal(0);
      expect(tensors.get('alsoEmpty')!.data).to.be.instanceOf(BigInt64Array);
      expect(Array.from(tensors.get('scalar')!.data as Float64Array)).to.deep.equal([2.5]);

      const none = decodeSafetensors(encodeSafetensors({}, { only: 'metadata' }));
      expect(none.tensors.size).to.equal(0);
      expect(none.metadata).to.deep.equal({ only: 'metadata' });
      expect(decodeSafetensors(encodeSafetensors({})).tensors.size).to.equal(0);
    });

    it('metadata round trips, including non-ASCII, JSON-in-a-string and a "__proto__" key', () => {
      const metadata: Record<string, string> = { config: JSON.stringify({ hiddenSize: 128, symbols: ['\n', 'é', '😀'] }), 'ключ': 'значение', empty: '' };
      Object.defineProperty(metadata, '__proto__', { value: 'just a key', enumerable: true });
      const out = decodeSafetensors(encodeSafetensors({ w: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) } }, metadata)).metadata;
      expect(Object.keys(out).sort()).to.deep.equal(Object.keys(metadata).sort());
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')!.value).to.equal('just a key');
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
      expect(out.config).to.equal(metadata.config);
    });

    it('decoded data are copies, aligned even when the input buffer is at an odd offset', () => {
      const buf = encodeSafetensors({ a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) }, b: { dtype: 'F64', shape: [1], data: new Float64Array([1.5]) } });
      const shifted = new Uint8Array(buf.length + 1).subarray(1);
      shifted.set(buf);
      const { tensors } = decodeSafetensors(shifted);
      const b = tensors.get('b')!.data as Float64Array;
      expect(b.byteOffset % 8).to.equal(0);
      expect(b[0]).to.equal(1.5);
      shifted.fill(0);
      expect(b[0]).to.equal(1.5);
    });

    it('layout is stable: same tensors in any insertion order give identical bytes, each tensor aligned', () => {
      const t = {
        u: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) } as SafeTensor,
        w: { dtype: 'F64', shape: [2], data: new Float64Array([1, 2]) } as SafeTensor,
        h: { dtype: 'I16', shape: [1], data: new Int16Array([7]) } as SafeTensor,
        s: { dtype: 'F32', shape: [1], data: new Float32Array([3]) } as SafeTensor,
      };
      const a = encodeSafetensors(t);
      const b = encodeSafetensors({ s: t.s, h: t.h, w: t.w, u: t.u });
      expect(a.equals(b)).to.equal(true);
      const headerLength = Number(a.readBigUInt64LE(0));
      expect((8 + headerLength) % 8).to.equal(0);
      const header = JSON.parse(a.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: SafetensorsDType; data_offsets: number[] }>;
      for (const entry of Object.values(header)) {
        expect(entry.data_offsets[0] % DTYPES[entry.dtype].itemSize).to.equal(0);
      }
    });

    it('the writer refuses bad input with TypeError/RangeError naming the tensor', () => {
      expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).to.throw(RangeError, /"x".*3 elements.*2/);
      expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).to.throw(TypeError, /Float32Array/);
      expect(() => encodeSafetensors({ x: { dtype: 'F17' as SafetensorsDType, shape: [2], data: new Float32Array(2) } })).to.throw(TypeError, /unknown dtype/);
      expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).to.throw(RangeError, /reserved/);
      expect(() => encodeSafetensors({}, { n: 3 as unknown as string })).to.throw(TypeError, /"n" must be a string/);
    });
  });

  describe('byte-exact format', () => {
    it('writes the file the spec describes, byte for byte', () => {
      const header = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
      expect(header.length).to.equal(54);
      const expected = Buffer.concat([
        Buffer.from([56, 0, 0, 0, 0, 0, 0, 0]), // N = 54 rounded up to 56, u64 little-endian
        Buffer.from(header + '  ', 'utf8'), // two spaces of padding: 8 + 56 is a multiple of 8
        Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40]), // 1.0f, 2.0f little-endian
      ]);
      const buf = encodeSafetensors({ t: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
      expect(buf.toString('hex')).to.equal(expected.toString('hex'));
    });

    it('reads a hand-built file with metadata, an unpadded header and several dtypes', () => {
      const header = '{"__metadata__":{"format":"pt"},"b":{"dtype":"I32","shape":[1,2],"data_offsets":[8,16]},"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}';
      const data = Buffer.from('000000000000f03f' + 'ffffffff' + '02000000', 'hex'); // 1.0, −1, 2
      const { tensors, metadata } = decodeSafetensors(build(header, data));
      expect(metadata).to.deep.equal({ format: 'pt' });
      expect(Array.from(tensors.get('a')!.data as Float64Array)).to.deep.equal([1]);
      expect(Array.from(tensors.get('b')!.data as Int32Array)).to.deep.equal([-1, 2]);
      expect([...tensors.keys()]).to.deep.equal(['a', 'b']);
    });
  });

  describe('malformed files: one CheckpointError per class', () => {
    const good = { t: f32([0, 8]) };

    it('file shorter than 8 bytes → TRUNCATED', () => {
      for (let n = 0; n < 8; n++) expectCheckpointError(() => decodeSafetensors(new Uint8Array(n)), 'TRUNCATED', `${n} bytes`);
    });

    it('header length past the end → TRUNCATED', () => {
      const buf = build(good, 8);
      expectCheckpointError(() => decodeSafetensors(build(good, 8, buf.length)), 'TRUNCATED', 'past the end');
      expectCheckpointError(() => decodeSafetensors(buf.subarray(0, 20)), 'TRUNCATED');
    });

    it('header length over the bound → HEADER_TOO_LARGE, without allocating', () => {
      const huge = Buffer.alloc(16);
      huge.writeBigUInt64LE(0xffffffffffffffffn, 0);
      expectCheckpointError(() => decodeSafetensors(huge), 'HEADER_TOO_LARGE', '18446744073709551615');
      huge.writeBigUInt64LE(200n * 1024n * 1024n, 0);
      expectCheckpointError(() => decodeSafetensors(huge), 'HEADER_TOO_LARGE', 'limit of 104857600');
      expectCheckpointError(() => decodeSafetensors(build(good, 8), { maxHeaderBytes: 16 }), 'HEADER_TOO_LARGE', 'limit of 16');
    });

    it('header not UTF-8 → BAD_UTF8', () => {
      const buf = build('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 8);
      buf[10] = 0xff;
      expectCheckpointError(() => decodeSafetensors(buf), 'BAD_UTF8');
      expectCheckpointError(() => decodeSafetensors(build(Buffer.from([0xed, 0xa0, 0x80]).toString('latin1'), 0)), 'BAD_JSON'); // latin1 → valid UTF-8 but not JSON
      const surrogate = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0xed, 0xa0, 0x80])]);
      expectCheckpointError(() => decodeSafetensors(surrogate), 'BAD_UTF8');
    });

    it('header not JSON → BAD_JSON', () => {
      for (const text of ['', '{', '{"t":}', "{'t':1}", '{"a":1,}', 'NaN']) {
        expectCheckpointError(() => decodeSafetensors(build(text)), 'BAD_JSON', 'not valid JSON');
      }
    });

    it('header not an object → BAD_HEADER', () => {
      for (const text of ['[]', 'null', '3', '"x"', 'true']) expectCheckpointError(() => decodeSafetensors(build(text)), 'BAD_HEADER', 'must be a JSON object');
    });

    it('tensor entry malformed (not an object, missing or unknown field) → BAD_HEADER naming the tensor', () => {
      expectCheckpointError(() => decodeSafetensors(build({ w: [1, 2] })), 'BAD_HEADER', '"w"', 'must be an object');
      expectCheckpointError(() => decodeSafetensors(build({ w: { dtype: 'F32', shape: [2] } }, 8)), 'BAD_HEADER', '"w"', 'data_offsets');
      expectCheckpointError(() => decodeSafetensors(build({ w: { ...f32([0, 8]), extra: 1 } }, 8)), 'BAD_HEADER', '"w"', 'unknown field "extra"');
    });

    it('unknown dtype → BAD_DTYPE', () => {
      for (const dtype of ['F128', 'f32', '', 5, null]) {
        expectCheckpointError(() => decodeSafetensors(build({ w: { ...f32([0, 8]), dtype } }, 8)), 'BAD_DTYPE', '"w"', 'unknown dtype');
      }
    });

    it('shape not an array of non-negative safe integers → BAD_SHAPE', () => {
      for (const shape of ['2', { 0: 2 }, [-2], [2.5], ['2'], [null], [2 ** 53], [1e300]]) {
        expectCheckpointError(() => decodeSafetensors(build({ w: { ...f32([0, 8]), shape } }, 8)), 'BAD_SHAPE', '"w"');
      }
    });

    it('shape whose size overflows → BAD_SHAPE, not a wrapped-around small number', () => {
      // 2^32 · 2^32 · 4 would wrap to 0 in 64-bit arithmetic, matching an empty range.
      expectCheckpointError(() => decodeSafetensors(build({ w: { dtype: 'F32', shape: [2 ** 32, 2 ** 32], data_offsets: [0, 0] } })), 'BAD_SHAPE', 'too many elements');
      expectCheckpointError(() => decodeSafetensors(build({ w: { dtype: 'F64', shape: [2 ** 50, 16], data_offsets: [0, 0] } })), 'BAD_SHAPE', 'too many elements');
      // A zero dimension makes any other dimension harmless.
      expect(decodeSafetensors(build({ w: { dtype: 'F64', shape: [2 ** 52, 0], data_offsets: [0, 0] } })).tensors.get('w')!.data.length).to.equal(0);
    });

    it('shape × itemsize ≠ end − begin → SIZE_MISMATCH', () => {
      expectCheckpointError(() => decodeSafetensors(build({ w: f32([0, 8], [3]) }, 8)), 'SIZE_MISMATCH', '"w"', 'needs 12 bytes', 'hold 8');
      expectCheckpointError(() => decodeSafetensors(build({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, 8)), 'SIZE_MISMATCH');
    });

    it('offsets not two non-negative integers → BAD_OFFSETS', () => {
      for (const data_offsets of [[0], [0, 8, 16], '0,8', [0, 8.5], [-8, 0], [0, '8'], [0, 2 ** 53], null]) {
        expectCheckpointError(() => decodeSafetensors(build({ w: { dtype: 'U8', shape: [8], data_offsets } }, 8)), 'BAD_OFFSETS', '"w"');
      }
    });

    it('offsets reversed → BAD_OFFSETS', () => {
      expectCheckpointError(() => decodeSafetensors(build({ w: { dtype: 'U8', shape: [0], data_offsets: [8, 0] } }, 8)), 'BAD_OFFSETS', 'reversed');
    });

    it('offsets out of range → BAD_OFFSETS', () => {
      expectCheckpointError(() => decodeSafetensors(build({ w: f32([0, 16]) }, 8)), 'BAD_OFFSETS', 'past the data section (8 bytes)');
      expectCheckpointError(() => decodeSafetensors(build({ w: { dtype: 'U8', shape: [0], data_offsets: [9, 9] } }, 8)), 'BAD_OFFSETS');
    });

    it('overlapping tensors → OVERLAP naming both', () => {
      expectCheckpointError(() => decodeSafetensors(build({ a: f32([0, 8]), b: f32([4, 12]) }, 12)), 'OVERLAP', '"a"', '"b"');
      expectCheckpointError(() => decodeSafetensors(build({ a: f32([0, 8]), b: f32([0, 8]) }, 8)), 'OVERLAP');
      // An empty tensor strictly inside another also claims a position already taken.
      expectCheckpointError(() => decodeSafetensors(build({ a: f32([0, 8]), e: { dtype: 'U8', shape: [0], data_offsets: [4, 4] } }, 8)), 'OVERLAP');
    });

    it('holes between tensors → HOLE', () => {
      expectCheckpointError(() => decodeSafetensors(build({ a: f32([0, 4]), b: f32([8, 12]) }, 12)), 'HOLE', '[4, 8)', '"b"');
      expectCheckpointError(() => decodeSafetensors(build({ b: f32([4, 8]) }, 8)), 'HOLE', '[0, 4)');
    });

    it('trailing bytes after the last tensor → TRAILING_DATA', () => {
      expectCheckpointError(() => decodeSafetensors(build({ a: f32([0, 4]) }, 5)), 'TRAILING_DATA', '[4, 5)');
      expectCheckpointError(() => decodeSafetensors(build({}, 1)), 'TRAILING_DATA', '[0, 1)');
    });

    it('duplicate names → DUPLICATE_NAME (JSON.parse alone would keep the last silently)', () => {
      const entry = JSON.stringify(f32([0, 4]));
      expectCheckpointError(() => decodeSafetensors(build(`{"w":${entry},"w":${entry}}`, 4)), 'DUPLICATE_NAME', 'tensor name "w" appears twice');
      // The same key spelled with an escape is the same key.
      expectCheckpointError(() => decodeSafetensors(build(`{"w":${entry},"\\u0077":${entry}}`, 4)), 'DUPLICATE_NAME', '"w"');
      // Duplicates inside an entry or the metadata are refused as well.
      expectCheckpointError(() => decodeSafetensors(build('{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4)), 'DUPLICATE_NAME', '"dtype"', '"w"');
      expectCheckpointError(() => decodeSafetensors(build('{"__metadata__":{"k":"a","k":"b"}}')), 'DUPLICATE_NAME', '"k"', '__metadata__');
      // Keys in different objects, and strings that merely look like keys, are fine.
      const ok = `{"__metadata__":{"w":"{\\"w\\":1,\\"w\\":2}"},"w":${entry}}`;
      expect(decodeSafetensors(build(ok, 4)).metadata.w).to.equal('{"w":1,"w":2}');
    });

    it('__metadata__ not an object of strings → BAD_METADATA', () => {
      for (const meta of [[], null, 'x', { n: 1 }, { o: {} }, { b: true }]) {
        expectCheckpointError(() => decodeSafetensors(build({ __metadata__: meta })), 'BAD_METADATA', '__metadata__');
      }
    });

    it('a non-Uint8Array argument is a TypeError (caller error, not a file error)', () => {
      expect(() => decodeSafetensors('abc' as unknown as Uint8Array)).to.throw(TypeError);
    });
  });
});
