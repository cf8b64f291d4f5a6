// The kernel declarations (native/kernels.json) and what is made from them: the committed
// generated files are what the generator makes now, every declaration follows the rules, and
// the addon, the TypeScript backend and the fuzzer cover exactly the declared kernels.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { backends } from '../lib';
import { generateCppTable, generateTypes } from '../lib/backend/decl/generate';
import { DECLS, loadDeclarations, resolveKernel, type RawKernel } from '../lib/backend/decl/table';
import { MAX_THREADS } from '../lib/backend/limits';
import { KERNEL_NAMES } from '../lib/backend/validate';
import { FUZZ_KERNELS } from './fuzz/native-fuzz';

const ROOT = path.resolve(__dirname, '..', '..');

describe('01 kernel declarations', () => {
  it('the generated C++ table and Kernels interface are up to date (npm run gen:kernels)', () => {
    const decls = loadDeclarations(path.join(ROOT, 'native', 'kernels.json'));
    expect(fs.readFileSync(path.join(ROOT, 'native', 'addon', 'kernel_table.inc'), 'utf8')).to.equal(generateCppTable(decls));
    expect(fs.readFileSync(path.join(ROOT, 'lib', 'backend', 'kernels.generated.ts'), 'utf8')).to.equal(generateTypes(decls));
  });

  it('the addon, both backends and the fuzzer cover exactly the declared kernels', () => {
    const names = DECLS.map((d) => d.name);
    expect(KERNEL_NAMES).to.deep.equal(names);
    expect([...FUZZ_KERNELS].sort()).to.deep.equal([...names].sort());
    for (const b of backends.available()) {
      const backend = backends.get(b) as unknown as Record<string, unknown>;
      for (const n of names) expect(typeof backend[n], `${b}.${n}`).to.equal('function');
    }
    if (backends.available().includes('native')) {
      const raw = require(backends.nativeFile() as string) as Record<string, unknown>;
      for (const n of names) expect(typeof raw[n], `addon.${n}`).to.equal('function');
    }
  });

  it('a declaration that breaks the rules is refused with the kernel and the reason', () => {
    const base: RawKernel = { name: 'k', doc: '', args: [{ name: 'n', kind: 'dim' }, { name: 'x', kind: 'floats', role: 'write', len: 'n' }, { name: 'offx', kind: 'offset' }] };
    expect(() => resolveKernel(base)).not.to.throw();
    const bad = (patch: (k: RawKernel) => void) => {
      const k = JSON.parse(JSON.stringify(base)) as RawKernel;
      patch(k);
      return () => resolveKernel(k);
    };
    expect(bad((k) => { k.args.pop(); })).to.throw(/k: array 'x' must be followed by its offset/);
    expect(bad((k) => { delete k.args[1].role; })).to.throw(/array 'x' needs a role/);
    expect(bad((k) => { k.args[1].len = 'n * q'; })).to.throw(/unknown argument 'q'/);
    expect(bad((k) => { k.args[1].len = 'n +'; })).to.throw(/len of x: expression 'n \+'/);
    expect(bad((k) => { k.args.push({ name: 'n', kind: 'dim' }); })).to.throw(/argument 'n' declared twice/);
    expect(bad((k) => { k.args[1].same = ['y']; })).to.throw(/same view as unknown 'y'/);
  });

  it('one thread limit: the TypeScript backends and the addon refuse the same counts', () => {
    for (const b of backends.available()) {
      expect(() => backends.get(b).setNumThreads(MAX_THREADS + 1)).to.throw(RangeError, new RegExp(`\\[1, ${MAX_THREADS}\\]`));
    }
    if (backends.available().includes('native')) {
      const raw = require(backends.nativeFile() as string) as { setNumThreads(n: number): void };
      expect(() => raw.setNumThreads(MAX_THREADS + 1)).to.throw(RangeError, new RegExp(`\\[1, ${MAX_THREADS}\\], got ${MAX_THREADS + 1}`));
    }
  });
});
