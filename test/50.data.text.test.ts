import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TextDataError, type TextDataErrorCode } from '../lib/data/errors';
import { decodeTrainingText, findInvalidUtf8, readTextFile, readTextFileSync, splitTrainValidation, Vocabulary } from '../lib/data/text';

function expectTextError(fn: () => unknown, code: TextDataErrorCode, ...parts: string[]): TextDataError {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  expect(caught, `expected TextDataError ${code}`).to.be.instanceOf(TextDataError);
  const err = caught as TextDataError;
  expect(err.code, err.message).to.equal(code);
  for (const part of parts) expect(err.message).to.include(part);
  return err;
}

describe('50 data: text and vocabulary', () => {
  describe('Vocabulary', () => {
    it('round trips text with astral characters; each code point is one symbol', () => {
      const text = 'héllo 😀 wörld\n𝄞 music 😀\tend';
      const vocab = Vocabulary.fromText(text);
      expect(vocab.symbols).to.include('😀').and.include('𝄞');
      expect(vocab.symbols.every((s) => Array.from(s).length === 1)).to.equal(true);
      const ids = vocab.encode(text);
      expect(ids).to.be.instanceOf(Int32Array);
      expect(ids.length).to.equal(Array.from(text).length); // code points, not UTF-16 units
      expect(ids.length).to.be.lessThan(text.length);
      expect(vocab.decode(ids)).to.equal(text);
    });

    it('orders symbols by code point (not by UTF-16 unit)', () => {
      // U+FB01 sorts before U+1F600 by code point; by UTF-16 unit the surrogate D83D comes first.
      const vocab = Vocabulary.fromText('😀ﬁba');
      expect(vocab.symbols).to.deep.equal(['a', 'b', 'ﬁ', '😀']);
      expect(Vocabulary.fromText('ba😀ﬁ').symbols).to.deep.equal(vocab.symbols);
    });

    it('handles a one-symbol vocabulary', () => {
      const vocab = Vocabulary.fromText('aaaa');
      expect(vocab.size).to.equal(1);
      expect(Array.from(vocab.encode('aaa'))).to.deep.equal([0, 0, 0]);
      expect(vocab.decode([0, 0])).to.equal('aa');
      expect(Vocabulary.fromJSON(JSON.parse(JSON.stringify(vocab))).symbols).to.deep.equal(['a']);
    });

    it('toJSON/fromJSON round trip through a JSON string (as in checkpoint metadata)', () => {
      const vocab = Vocabulary.fromText('\n\t "\\abc😀é\u0000');
      const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(vocab)));
      expect(back.symbols).to.deep.equal(vocab.symbols);
      expect(back.encode('abc😀')).to.deep.equal(vocab.encode('abc😀'));
    });

    it('refuses bad symbols, unknown characters and ids out of range, naming them', () => {
      expect(() => Vocabulary.fromText('')).to.throw(RangeError, /empty/);
      expect(() => new Vocabulary([])).to.throw(RangeError, /at least one/);
      expect(() => new Vocabulary(['a', 'a'])).to.throw(RangeError, /twice/);
      expect(() => new Vocabulary(['ab'])).to.throw(TypeError, /single code point/);
      expect(() => Vocabulary.fromJSON({ symbols: 'abc' })).to.throw(TypeError);
      expect(() => Vocabulary.fromJSON(null)).to.throw(TypeError);
      const vocab = Vocabulary.fromText('abc');
      expect(() => vocab.encode('abz')).to.throw(RangeError, /"z" \(U\+007A\) at code point 2/);
      expect(() => vocab.encode('a😀')).to.throw(RangeError, /U\+1F600/);
      expect(() => vocab.decode([0, 3])).to.throw(RangeError, /ids\[1\] = 3/);
      expect(() => vocab.decode([0.5])).to.throw(RangeError);
      expect(vocab.idOf('c')).to.equal(2);
      expect(vocab.idOf('z')).to.equal(-1);
    });
  });

  describe('reading text files', () => {
    let dir: string;
    before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-text-')); });
    after(() => { fs.rmSync(dir, { recursive: true, force: true }); });
    const file = (name: string, bytes: Uint8Array | string) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, bytes);
      return p;
    };

    it('reads UTF-8, normalizes CRLF and lone CR to LF, drops a BOM', async () => {
      const p = file('crlf.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Anna\r\nBob\rÉve\n😀\r\n', 'utf8')]));
      expect(readTextFileSync(p)).to.equal('Anna\nBob\nÉve\n😀\n');
      expect(await readTextFile(p)).to.equal('Anna\nBob\nÉve\n😀\n');
    });

    it('rejects an empty or whitespace-only file, naming it', async () => {
      const empty = file('empty.txt', '');
      expectTextError(() => readTextFileSync(empty), 'EMPTY', empty, '0 bytes');
      expectTextError(() => readTextFileSync(file('blank.txt', ' \r\n\n\t ')), 'EMPTY', 'only whitespace');
      let caught: unknown;
      try { await readTextFile(empty); } catch (err) { caught = err; }
      expect(caught).to.be.instanceOf(TextDataError);
    });

    it('rejects binary files: NUL bytes (with the offset) or many control characters', () => {
      const nul = file('nul.bin', Buffer.from('abc\u0000def'));
      const err = expectTextError(() => readTextFileSync(nul), 'BINARY', nul, 'NUL byte at byte offset 3');
      expect(err.offset).to.equal(3);
      const controls = file('ctl.bin', Buffer.from('ab\u0001\u0002\u0003cdefgh\u001b', 'latin1'));
      expectTextError(() => readTextFileSync(controls), 'BINARY', 'control characters', 'byte offset 2');
      // A few control characters in a long text are tolerated (form feeds, an escape).
      expect(decodeTrainingText(Buffer.from(`${'x'.repeat(100)}\f\u001b`), 'ok.txt')).to.have.length(102);
      // A real binary header (PNG) is rejected.
      expectTextError(() => decodeTrainingText(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'img.png'), 'BINARY', 'img.png');
    });

    it('rejects invalid UTF-8 with the offset of the first bad byte', () => {
      const cases: Array<[string, string, number]> = [
        ['lone continuation', '61 62 80 63', 2],
        ['overlong 2-byte', '61 c0 af', 1],
        ['overlong 3-byte', '61 e0 80 af', 1],
        ['UTF-16 surrogate', '61 62 ed a0 80', 2],
        ['past U+10FFFF', 'f4 90 80 80', 0],
        ['truncated at the end', '61 62 63 e2 82', 3],
        ['Latin-1 é', '63 61 66 e9 0a', 3],
        ['0xFF', '41 ff', 1],
      ];
      for (const [label, hex, offset] of cases) {
        const bytes = Buffer.from(hex.replace(/ /g, ''), 'hex');
        expect(findInvalidUtf8(bytes), label).to.equal(offset);
        const err = expectTextError(() => decodeTrainingText(bytes, `${label}.txt`), 'INVALID_UTF8', `${label}.txt`, `byte offset ${offset}`);
        expect(err.offset).to.equal(offset);
      }
      expect(findInvalidUtf8(Buffer.from('héllo 😀 ✓ 𝄞', 'utf8'))).to.equal(-1);
    });

    it('a missing file gives the file system error (ENOENT)', () => {
      expect(() => readTextFileSync(path.join(dir, 'missing.txt'))).to.throw(/ENOENT/);
    });
  });

  describe('splitTrainValidation', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `name${i}`);

    it('holds out the requested fraction, deterministically per seed, keeping line order', () => {
      const a = splitTrainValidation(lines, 0.1, 5);
      expect(a.validationLines).to.equal(10);
      expect(a.trainLines).to.equal(90);
      expect(splitTrainValidation(lines, 0.1, 5)).to.deep.equal(a);
      expect(splitTrainValidation(lines, 0.1, 6).validation).to.not.equal(a.validation);
      const all = (a.train + a.validation).split('\n').filter(Boolean).sort();
      expect(all).to.deep.equal(lines.slice().sort());
      const trainIndices = a.train.split('\n').filter(Boolean).map((l) => Number(l.slice(4)));
      expect(trainIndices).to.deep.equal(trainIndices.slice().sort((x, y) => x - y));
    });

    it('text input splits into lines (a final newline ends the last line); CRLF already normalized', () => {
      const s = splitTrainValidation('a\nb\nc\nd\n', 0.25, 1);
      expect(s.trainLines + s.validationLines).to.equal(4);
      expect(s.validationLines).to.equal(1);
      expect(s.train.endsWith('\n') && s.validation.endsWith('\n')).to.equal(true);
    });

    it('edge cases: fraction 0, tiny inputs, bad fractions', () => {
      expect(splitTrainValidation(lines, 0, 1).validation).to.equal('');
      expect(splitTrainValidation(['only'], 0.5, 1)).to.deep.include({ trainLines: 1, validationLines: 0 });
      expect(splitTrainValidation(['a', 'b'], 0.01, 1)).to.deep.include({ trainLines: 1, validationLines: 1 });
      expect(splitTrainValidation(['a', 'b'], 0.99, 1)).to.deep.include({ trainLines: 1, validationLines: 1 });
      expect(() => splitTrainValidation(lines, 1, 1)).to.throw(RangeError);
      expect(() => splitTrainValidation(lines, -0.1, 1)).to.throw(RangeError);
      expect(() => splitTrainValidation(lines, NaN, 1)).to.throw(RangeError);
      expect(() => splitTrainValidation(['a\nb'], 0.5, 1)).to.throw(TypeError);
    });
  });
});
