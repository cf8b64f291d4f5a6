// Bad input gets a TypeError or RangeError naming the argument, from the TypeScript layer
// (both backends) and again from the raw addon (the C++ last line of defence).
import { expect } from 'chai';
import { backends } from '../lib';
import type { Kernels } from '../lib';

type Case = { what: string; call: (k: Kernels) => unknown; error: typeof TypeError | typeof RangeError; message: RegExp };

const f32 = (n: number) => new Float32Array(n);
const f64 = (n: number) => new Float64Array(n);

// A valid 2x3 · 3x4 gemm whose arguments each case breaks one at a time.
function gemmArgs(): Parameters<Kernels['gemm']> {
  return [false, false, 2, 4, 3, 1, f32(6), 0, 3, f32(12), 0, 4, 0, f32(8), 0, 4];
}
function gemmWith(index: number, value: unknown): (k: Kernels) => unknown {
  return (k) => {
    const args = gemmArgs() as unknown[];
    args[index] = value;
    return (k.gemm as (...a: unknown[]) => unknown)(...args);
  };
}
function detached(): Float32Array {
  const array = new Float32Array(16);
  structuredClone(array.buffer, { transfer: [array.buffer] });
  return array;
}

const cases: Case[] = [
  { what: 'too few arguments', call: (k) => (k.gemm as (...a: unknown[]) => unknown)(false, false, 2), error: TypeError, message: /gemm: expected 16 arguments, got 3/ },
  { what: 'too many arguments', call: (k) => (k.scale as (...a: unknown[]) => unknown)(1, 2, f32(1), 0, 9), error: TypeError, message: /scale: expected 4 arguments, got 5/ },
  { what: 'a string dimension', call: gemmWith(2, '2'), error: TypeError, message: /gemm: M must be a number, got the string '2'/ },
  { what: 'a NaN dimension', call: gemmWith(3, NaN), error: RangeError, message: /gemm: N must be a finite number, got NaN/ },
  { what: 'an infinite scalar', call: gemmWith(5, Infinity), error: RangeError, message: /gemm: alpha must be a finite number, got Infinity/ },
  { what: 'a negative dimension', call: gemmWith(4, -1), error: RangeError, message: /gemm: K must be an integer in \[0, 2147483647\], got -1/ },
  { what: 'a fractional dimension', call: gemmWith(2, 1.5), error: RangeError, message: /gemm: M must be an integer .*got 1.5/ },
  { what: 'a dimension of 2^31', call: gemmWith(2, 2 ** 31), error: RangeError, message: /gemm: M must be an integer .*got 2147483648/ },
  { what: 'a fractional offset', call: gemmWith(7, 0.5), error: RangeError, message: /gemm: offA must be a non-negative integer, got 0.5/ },
  { what: 'a non-boolean flag', call: gemmWith(0, 0), error: TypeError, message: /gemm: transA must be a boolean, got 0/ },
  { what: 'a plain Array for a matrix', call: gemmWith(6, [1, 2, 3]), error: TypeError, message: /gemm: A must be a Float32Array or Float64Array, got an Array/ },
  { what: 'an Int32Array for a matrix', call: gemmWith(9, new Int32Array(12)), error: TypeError, message: /gemm: B must be a Float32Array or Float64Array, got a Int32Array of length 12/ },
  { what: 'mixed dtypes', call: gemmWith(13, f64(8)), error: TypeError, message: /gemm: C must be a Float32Array like A, got a Float64Array/ },
  { what: 'a matrix one element short', call: gemmWith(9, f32(11)), error: RangeError, message: /gemm: B is too short for a 3x4 view with ld 4 at offset 0: needs 0 \+ 12 elements, has 11/ },
  { what: 'an offset past the end', call: gemmWith(14, 1), error: RangeError, message: /gemm: C is too short .* at offset 1/ },
  { what: 'a leading dimension below the width', call: gemmWith(8, 2), error: RangeError, message: /gemm: lda must be >= 3 \(K\), got 2/ },
  { what: 'a detached buffer', call: gemmWith(6, detached()), error: TypeError, message: /gemm: A is backed by a detached ArrayBuffer/ },
  { what: 'an output overlapping an input', call: (k) => { const buf = f32(40); return k.gemm(false, false, 2, 4, 3, 1, buf, 0, 3, buf, 6, 4, 0, buf, 10, 4); }, error: RangeError, message: /gemm: C overlaps B \(not allowed\)/ },
  { what: 'a size product that overflows', call: (k) => k.gemm(false, false, 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 1, f32(4), 0, 2 ** 31 - 1, f32(4), 0, 2 ** 31 - 1, 0, f32(4), 0, 2 ** 52), error: RangeError, message: /gemm: the size of (A|C) overflows|too short/ },
  { what: 'an unknown activation', call: (k) => k.activationForward('gelu' as never, 1, 1, f32(1), 0, 1, f32(1), 0, 1), error: TypeError, message: /activationForward: act must be 'tanh', 'relu' or 'sigmoid', got the string 'gelu'/ },
  { what: 'a partial in-place overlap', call: (k) => { const b = f32(8); return k.activationForward('tanh', 1, 4, b, 0, 4, b, 2, 4); }, error: RangeError, message: /activationForward: C overlaps U \(only the very same view is allowed\)/ },
  { what: 'a target out of range', call: (k) => k.softmaxCrossEntropy(3, 2, f32(6), 0, 2, new Int32Array([0, 3]), 0, 1, f32(6), 0, 2, f64(1), 0), error: RangeError, message: /softmaxCrossEntropy: targets\[1\] must be in \[-1, 3\) .*got 3/ },
  { what: 'a float32 loss slot', call: (k) => k.softmaxCrossEntropy(3, 2, f32(6), 0, 2, new Int32Array([0, 1]), 0, 1, f32(6), 0, 2, f32(1) as never, 0), error: TypeError, message: /softmaxCrossEntropy: loss must be a Float64Array/ },
  { what: 'a token id out of range', call: (k) => k.rnnForward('tanh', 5, 2, 1, 2, new Int32Array([1, 7]), 0, f32(10), 0, f32(4), 0, f32(2), 0, f32(8), 0), error: RangeError, message: /rnnForward: X\[1\] must be in \[0, 5\) .*got 7/ },
  { what: 'dX given with token ids', call: (k) => k.rnnBackward('tanh', 5, 2, 1, 2, new Int32Array([1, 2]), 0, f32(8), 0, f32(10), 0, f32(4), 0, f32(4), 0, f32(4), 0, f32(10), 0, f32(4), 0, f32(2), 0, f32(10), 0, f32(4), 0), error: TypeError, message: /rnnBackward: dX must be null when X holds token ids/ },
  { what: 'a negative learning rate', call: (k) => k.adamUpdate(2, f32(2), 0, f32(2), 0, f32(2), 0, f32(2), 0, -1, 0.9, 0.999, 1e-8, 0, false, 1), error: RangeError, message: /adamUpdate: lr must be >= 0, got -1/ },
  { what: 'beta outside [0, 1)', call: (k) => k.adamUpdate(2, f32(2), 0, f32(2), 0, f32(2), 0, f32(2), 0, 0.1, 1, 0.999, 1e-8, 0, false, 1), error: RangeError, message: /adamUpdate: beta1 must be in \[0, 1\), got 1/ },
  // The fuzz found the ts backend writing dWx, dWc, db and then failing on dX = undefined.
  { what: 'undefined for a nullable array (only null means none)', call: (k) => k.rnnBackward('tanh', 2, 2, 1, 2, f32(4), 0, f32(8), 0, f32(4), 0, f32(4), 0, f32(4), 0, f32(4), 0, f32(4), 0, f32(4), 0, f32(2), 0, undefined as never, 0, f32(4), 0), error: TypeError, message: /rnnBackward: dX must be a Float32Array or Float64Array or null, got undefined/ },
  { what: 'an undefined velocity', call: (k) => k.sgdUpdate(2, f32(2), 0, f32(2), 0, undefined as never, 0, 0.1, 0, false, 0), error: TypeError, message: /sgdUpdate: velocity must be a Float32Array or Float64Array or null, got undefined/ },
  { what: 'momentum without a velocity', call: (k) => k.sgdUpdate(2, f32(2), 0, f32(2), 0, null, 0, 0.1, 0.9, false, 0), error: TypeError, message: /sgdUpdate: velocity must be a float array when momentum != 0/ },
];

type Target = { name: string; kernels: () => Kernels };
const targets: Target[] = backends.available().map((name) => ({ name, kernels: () => backends.get(name) }));
if (backends.available().includes('native')) {
  // The raw addon, without the TypeScript checks in front: C++ must catch the same inputs.
  targets.push({ name: 'raw addon', kernels: () => require(backends.nativeFile() as string) as Kernels });
}

describe('05 argument checking', () => {
  for (const target of targets) {
    describe(target.name, () => {
      for (const c of cases) {
        it(`rejects ${c.what}`, () => {
          const k = target.kernels();
          let thrown: unknown = null;
          try {
            c.call(k);
          } catch (e) {
            thrown = e;
          }
          expect(thrown, 'no error was thrown').to.be.instanceOf(c.error);
          expect((thrown as Error).message).to.match(c.message);
        });
      }
      it('accepts the valid call the cases start from, and computes it', () => {
        const k = target.kernels();
        const args = gemmArgs();
        (args[6] as Float32Array).set([1, 2, 3, 4, 5, 6]);
        (args[9] as Float32Array).fill(1);
        k.gemm(...args);
        expect(Array.from(args[13] as Float32Array)).to.deep.equal([6, 6, 6, 6, 15, 15, 15, 15]);
      });
    });
  }

  it('a malformed program gets the same TypeError, word for word, from every backend (the native one hands it to the addon)', async () => {
    const C = f32(4);
    const programs: unknown[] = [
      'fill', null, [1], [[]], [['fill', 1, 7, C, 0], 'fill'], [[7, 1]], [[null]], [['nope', 1]], [['constructor']], [['__proto__', 1]],
      [['fill\0', 1, 7, C, 0]], [['fill', 1, 7, C]], [['fill', 1, 7, C, 0, 0]], [['fill', 1, 7, C, 0], ['gemm']],
      [['fill', 1, 7, C, 0], 'x'.repeat(60)], [['n'.repeat(60), 1]], [new Float32Array(2)], [['fill', 1.5, 7, C, 0]],
    ];
    for (const [k, program] of programs.entries()) {
      const messages = new Map<string, string>();
      for (const name of backends.available()) {
        let err: unknown = null;
        try {
          await backends.get(name).run(program as never);
        } catch (e) {
          err = e;
        }
        expect(err, `${name} program ${k}`).to.be.instanceOf(k === programs.length - 1 ? RangeError : TypeError);
        messages.set(name, (err as Error).message);
      }
      expect(new Set(messages.values()).size, `program ${k}: ${JSON.stringify([...messages])}`).to.equal(1);
    }
    expect(C.every((v) => v === 0)).to.equal(true);
  });

  it('rejects a malformed async program before running any of it', async () => {
    for (const name of backends.available()) {
      const b = backends.get(name);
      const C = f32(1);
      const good = ['fill', 1, 7, C, 0] as const;
      const bad = ['fill', 1, 7, C, 5] as const;
      let err: unknown = null;
      try {
        await b.run([good as never, bad as never]);
      } catch (e) {
        err = e;
      }
      expect(err, name).to.be.instanceOf(RangeError);
      expect(C[0], `${name}: the valid op before the bad one must not have run`).to.equal(0);
      await b.run([good as never]);
      expect(C[0]).to.equal(7);
      let unknown: unknown = null;
      try {
        await b.run([['nope', 1] as never]);
      } catch (e) {
        unknown = e;
      }
      expect(unknown).to.be.instanceOf(TypeError);
    }
  });
});
