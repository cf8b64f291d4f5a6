// The README's library example runs as written, against this checkout.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** The first js block under README.md's section `heading`. */
function readmeJs(heading: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  expect(match, `a js block under "${heading}"`).to.not.equal(null);
  return (match as RegExpExecArray)[1];
}

/** A user's project in a fresh folder with this checkout as node_modules/native-rnn; removed after body. */
function inUserProject(body: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-readme-'));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'native-rnn'), 'dir');
    body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('45 README', () => {
  it('the library example trains, prints a low loss and samples', () => {
    const example = readmeJs('## Library');
    inUserProject((dir) => {
      fs.writeFileSync(path.join(dir, 'example.js'), example);
      const r = spawnSync(process.execPath, ['example.js'], { cwd: dir, encoding: 'utf8', timeout: 120000 });
      expect(r.status, r.stderr).to.equal(0);
      const final = /final loss ([0-9.]+)/.exec(r.stdout);
      expect(final, r.stdout).to.not.equal(null);
      expect(Number((final as RegExpExecArray)[1])).to.be.below(0.1);
      expect(r.stdout).to.match(/\nh[a-z ]+/);
    });
  });

  it("the gradient-check example runs as a user's mocha suite and passes", () => {
    const example = readmeJs('## Gradient checks in your tests');
    inUserProject((dir) => {
      // Beside native-rnn, the user's own chai and mocha (ours, linked).
      fs.symlinkSync(path.join(ROOT, 'node_modules', 'chai'), path.join(dir, 'node_modules', 'chai'), 'dir');
      fs.mkdirSync(path.join(dir, 'test'));
      fs.writeFileSync(path.join(dir, 'test', 'gradients.test.js'), example);
      const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
      const r = spawnSync(process.execPath, [mocha, '--no-config', '--timeout', '60000', 'test/gradients.test.js'],
        { cwd: dir, encoding: 'utf8', timeout: 120000 });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/4 passing/);
      expect(r.stdout).to.match(/gradCheck passed: RNNModel \(lstm, 2 layers\), user loss on the logits; full mode, 1142 elements/);
    });
  });
});
