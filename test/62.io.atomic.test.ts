import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tempFilePattern, writeFileAtomic, writeFileAtomicSync } from '../lib/io/atomic';
import { decodeSafetensors, encodeSafetensors } from '../lib/io/safetensors';
import { Random } from '../lib/random';

describe('62 io: atomic writes', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-atomic-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  const leftovers = () => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  for (const [label, write] of [
    ['writeFileAtomic', (p: string, d: Uint8Array | string) => writeFileAtomic(p, d)],
    ['writeFileAtomicSync', async (p: string, d: Uint8Array | string) => writeFileAtomicSync(p, d)],
  ] as const) {
    it(`${label}: creates, then overwrites, leaving no temp file`, async () => {
      const target = path.join(dir, 'model.safetensors');
      await write(target, new Uint8Array([1, 2, 3]));
      expect([...fs.readFileSync(target)]).to.deep.equal([1, 2, 3]);
      await write(target, 'second, longer contents ✓');
      expect(fs.readFileSync(target, 'utf8')).to.equal('second, longer contents ✓');
      await write(target, '');
      expect(fs.readFileSync(target).length).to.equal(0);
      expect(leftovers()).to.deep.equal([]);
    });
  }

  it('a write that fails before the rename leaves the old file intact and removes the temp file', async () => {
    const target = path.join(dir, 'ckpt');
    fs.writeFileSync(target, 'old');
    let seenTemp = '';
    const verify = (temp: string) => {
      seenTemp = temp;
      expect(fs.readFileSync(temp, 'utf8')).to.equal('new'); // durable in the temp file already
      expect(path.dirname(temp)).to.equal(dir);
      throw new Error('verification failed');
    };
    let caught: unknown;
    try { await writeFileAtomic(target, 'new', { verify }); } catch (err) { caught = err; }
    expect(String(caught)).to.include('verification failed');
    expect(() => writeFileAtomicSync(target, 'new', { verify })).to.throw('verification failed');
    expect(fs.readFileSync(target, 'utf8')).to.equal('old');
    expect(tempFilePattern(target).test(path.basename(seenTemp))).to.equal(true);
    expect(leftovers()).to.deep.equal([]);
  });

  it('a failing rename (target is a directory) removes the temp file; a missing directory fails cleanly', async () => {
    const target = path.join(dir, 'taken');
    fs.mkdirSync(target);
    let caught: unknown;
    try { await writeFileAtomic(target, 'x'); } catch (err) { caught = err; }
    expect(caught).to.be.instanceOf(Error);
    expect(() => writeFileAtomicSync(target, 'x')).to.throw();
    expect(leftovers()).to.deep.equal([]);
    expect(() => writeFileAtomicSync(path.join(dir, 'no', 'such', 'dir', 'f'), 'x')).to.throw(/ENOENT/);
  });

  it('refuses data that is neither bytes nor a string', () => {
    expect(() => writeFileAtomicSync(path.join(dir, 'f'), 42 as unknown as string)).to.throw(TypeError);
  });

  it('SIGKILL during a save loop always leaves a whole, loadable checkpoint', async function () {
    this.timeout(60000);
    const target = path.join(dir, 'model.safetensors');
    const child = path.join(__dirname, 'fixtures', 'atomic-writer.js');
    const floats = 256 * 1024; // 1 MiB a checkpoint: long enough that kills land mid-write
    const r = new Random(62);
    const seenCounters: number[] = [];
    for (let round = 0; round < 6; round++) {
      const proc = spawn(process.execPath, [child, target, String(floats)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve, reject) => {
        proc.stdout.once('data', () => resolve());
        proc.once('exit', (code) => reject(new Error(`writer exited early with code ${code}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, 5 + r.int(120)));
      proc.kill('SIGKILL');
      expect(await exited).to.equal('SIGKILL');

      const { tensors, metadata } = decodeSafetensors(fs.readFileSync(target));
      const counter = Number(metadata.counter);
      const w = tensors.get('w')!.data as Float32Array;
      expect(w.length).to.equal(floats);
      // Every element comes from the same save as the metadata: nothing torn.
      expect(w[0]).to.equal(counter);
      expect(w.every((v) => v === counter)).to.equal(true);
      seenCounters.push(counter);
    }
    // Killed writers may leave temp files behind; they never replace the checkpoint.
    const stale = fs.readdirSync(dir).filter((f) => tempFilePattern(target).test(f));
    console.log(`      checkpoints at kill: ${seenCounters.join(', ')}; stale temp files left: ${stale.length}`);
    expect(seenCounters.every((c) => c >= 1)).to.equal(true);
  });

  it('a checkpoint written with writeFileAtomic decodes', async () => {
    const target = path.join(dir, 'x.safetensors');
    await writeFileAtomic(target, encodeSafetensors({ a: { dtype: 'F64', shape: [2], data: new Float64Array([1, 2]) } }));
    expect(Array.from(decodeSafetensors(fs.readFileSync(target)).tensors.get('a')!.data as Float64Array)).to.deep.equal([1, 2]);
  });
});
