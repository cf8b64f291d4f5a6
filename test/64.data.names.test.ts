import { expect } from 'chai';
import { decodeTrainingText, splitTrainValidation, Vocabulary } from '../lib/data/text';
import { BUILTIN_NAMES_SEED, builtinNamesText, loadBuiltinNames } from '../lib/data/names';

describe('64 data: built-in names', () => {
  // 4,951 female + 3,898 male = 8,849 entries in the packages; 427 repeat (unisex names in
  // both lists, a few twice in one list), leaving 8,422 distinct names.
  const DISTINCT_NAMES = 8422;

  it(`loads ${DISTINCT_NAMES} distinct one-line names from the two stdlib packages`, () => {
    const names = loadBuiltinNames();
    expect(names).to.have.length(DISTINCT_NAMES);
    expect(new Set(names).size).to.equal(names.length);
    expect(names).to.include.members(['Aaren', 'Aaron', 'Zolly', 'Anne-Marie']);
    expect(names.every((n) => /^[A-Za-z-]+$/.test(n))).to.equal(true);
  });

  it('builtinNamesText is a deterministic shuffle, one name a line', () => {
    const text = builtinNamesText();
    expect(builtinNamesText(BUILTIN_NAMES_SEED)).to.equal(text);
    expect(text.endsWith('\n')).to.equal(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).to.have.length(DISTINCT_NAMES);
    expect(lines.slice().sort()).to.deep.equal(loadBuiltinNames().sort());
    expect(lines.slice(0, 3)).to.not.deep.equal(['Aaren', 'Aarika', 'Abagael']); // shuffled
    const other = builtinNamesText(1);
    expect(other).to.not.equal(text);
    expect(other.length).to.equal(text.length);
  });

  it('goes through the same path as a user file: text → Vocabulary → ids, and splits', () => {
    const text = decodeTrainingText(Buffer.from(builtinNamesText(), 'utf8'), 'built-in names');
    const vocab = Vocabulary.fromText(text);
    // newline, '-', A–Z, a–z
    expect(vocab.size).to.equal(54);
    expect(vocab.symbols[0]).to.equal('\n');
    expect(vocab.decode(vocab.encode(text))).to.equal(text);
    const split = splitTrainValidation(text, 0.1, 1);
    expect(split.validationLines).to.equal(842);
    expect(split.trainLines + split.validationLines).to.equal(DISTINCT_NAMES);
  });
});
