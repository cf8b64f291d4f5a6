// The gated cells' kernels through both backends: native (C++, every ISA path this CPU has)
// and ts agree on random valid calls drawn from the declarations, every output array, in
// float64 to 1e-12 (relative to the largest magnitude) and in float32 to 1e-4.
import { expect } from 'chai';
import { backends } from '../lib';
import type { Kernels } from '../lib';
import { DECL_BY_NAME, isOutput } from '../lib/backend/decl/table';
import { validArgs } from './fuzz/native-fuzz';

const hasNative = backends.available().includes('native');
const GATED = ['lstmForward', 'lstmBackward', 'gruForward', 'gruBackward'] as const;

function cloneArgs(args: unknown[]): unknown[] {
  // Fresh copies of every array, keeping aliases (the same array twice stays one array).
  const seen = new Map<unknown, unknown>();
  return args.map((v) => {
    if (!ArrayBuffer.isView(v)) return v;
    if (!seen.has(v)) seen.set(v, (v as Float64Array).slice());
    return seen.get(v);
  });
}

describe('15 gated cell kernels: native = ts', () => {
  for (const name of GATED) {
    for (const dtype of ['float64', 'float32'] as const) {
      (hasNative ? it : it.skip)(`${name} ${dtype}: 150 random calls, every output`, () => {
        const decl = DECL_BY_NAME.get(name)!;
        const outputs = decl.args.filter((a) => isOutput(a)).map((a) => a.index);
        const tol = dtype === 'float64' ? 1e-12 : 1e-4;
        let compared = 0;
        for (let seed = 1; seed <= 150; seed++) {
          const args = validArgs(name as keyof Kernels, seed * 7919, dtype);
          const a1 = cloneArgs(args), a2 = cloneArgs(args);
          (backends.get('native')[name] as (...a: unknown[]) => void)(...a1);
          (backends.get('ts')[name] as (...a: unknown[]) => void)(...a2);
          for (const i of outputs) {
            const x = a1[i] as Float64Array | null, y = a2[i] as Float64Array | null;
            if (x === null) continue;
            let scale = 1, worst = 0;
            for (let k = 0; k < x.length; k++) scale = Math.max(scale, Math.abs(y![k]));
            for (let k = 0; k < x.length; k++) worst = Math.max(worst, Math.abs(x[k] - y![k]));
            expect(worst / scale, `${name} seed ${seed}: ${decl.args[i].name}`).to.be.at.most(tol);
            compared++;
          }
        }
        expect(compared).to.be.greaterThan(150);
      });
    }
  }
});
