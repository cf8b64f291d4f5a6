import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeTrainingText, splitTrainValidation, Vocabulary } from '../lib/data/text';
import { BUILTIN_NAMES_FILE, BUILTIN_NAMES_SEED, builtinNamesText, loadBuiltinNames } from '../lib/data/names';

const ROOT = path.resolve(__dirname, '..', '..');

/** The @stdlib packages the shipped file is made from (devDependencies), or null when absent. */
function stdlibDirs(): string[] | null {
  const generator = require(path.join(ROOT, 'scripts', 'make-names.js')) as { PACKAGES: string[] };
  try {
    return generator.PACKAGES.map((name) => path.dirname(require.resolve(`${name}/package.json`, { paths: [ROOT] })));
  } catch {
    return null;
  }
}

describe('51 data: built-in names', () => {
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

  describe('the shipped data file', () => {
    it('lives in the package root\'s data/ folder, which "files" ships with its NOTICE', () => {
      expect(BUILTIN_NAMES_FILE).to.equal(path.join(ROOT, 'data', 'names.json'));
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
      expect(pkg.files).to.include('data');
      expect(fs.readFileSync(path.join(ROOT, 'data', 'NOTICE'), 'utf8')).to.match(/The Stdlib Authors/);
      expect(fs.readFileSync(path.join(ROOT, 'data', 'LICENSE-stdlib'), 'utf8')).to.match(/Apache License\s+Version 2\.0/);
      // Only the generator's inputs need the packages; a user's install has none of them.
      expect(Object.keys(pkg.dependencies).filter((d: string) => d.startsWith('@stdlib/'))).to.deep.equal([]);
    });

    it('equals what scripts/make-names.js makes from the installed @stdlib packages', function () {
      if (!stdlibDirs()) this.skip();
      const { makeNameFiles } = require(path.join(ROOT, 'scripts', 'make-names.js')) as {
        makeNameFiles(): Record<string, string>;
      };
      const made = makeNameFiles();
      expect(Object.keys(made).sort()).to.deep.equal(['data/LICENSE-stdlib', 'data/NOTICE', 'data/names.json']);
      for (const [file, text] of Object.entries(made)) {
        expect(fs.readFileSync(path.join(ROOT, file), 'utf8'), `${file} is stale: run npm run names`).to.equal(text);
      }
    });

    it('gives the list the packages gave: same names, same order, same count', function () {
      const dirs = stdlibDirs();
      if (!dirs) this.skip();
      // What loadBuiltinNames did when it read the packages: each data/names.json in turn,
      // first occurrence kept.
      const before: string[] = [];
      const seen = new Set<string>();
      for (const dir of dirs as string[]) {
        for (const name of JSON.parse(fs.readFileSync(path.join(dir, 'data', 'names.json'), 'utf8')) as string[]) {
          if (!seen.has(name)) before.push(name);
          seen.add(name);
        }
      }
      expect(before).to.have.length(DISTINCT_NAMES);
      expect(loadBuiltinNames()).to.deep.equal(before);
    });
  });
});
