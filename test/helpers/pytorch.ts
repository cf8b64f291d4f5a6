// Shared by test/65 and test/66 (README.md's PyTorch snippet run as written): the snippet
// and what it names, and a stand-in for the `safetensors` package on the fixture's reader.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The python block under README.md's "## Checkpoint format", its checkpoint path and its priming text. */
export function readmeSnippet(root: string): { snippet: string; file: string; prime: string } {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Checkpoint format'));
  const match = /```python\n([\s\S]*?)```/.exec(section);
  expect(match, 'a python block under "## Checkpoint format"').to.not.equal(null);
  const snippet = (match as RegExpExecArray)[1];
  const file = /path = "([^"]+)"/.exec(snippet);
  expect(file, 'the snippet names its checkpoint as path = "…"').to.not.equal(null);
  const text = /"(\\n[A-Za-z]*)"/.exec(snippet);
  expect(text, 'the snippet primes with a "\\n…" string').to.not.equal(null);
  const prime = JSON.parse(`"${(text as RegExpExecArray)[1]}"`) as string;
  return { snippet, file: (file as RegExpExecArray)[1], prime };
}

/**
 * Writes cwd/shim/safetensors: the `safetensors` API the snippet uses (safe_open(...).metadata()
 * and safetensors.torch.load_file), on test/fixtures/torch_interop.py's reader. Returns the
 * folder to put on PYTHONPATH (with the fixtures folder, for torch_interop itself).
 */
export function writeSafetensorsShim(cwd: string): string {
  const shim = path.join(cwd, 'shim', 'safetensors');
  fs.mkdirSync(shim, { recursive: true });
  fs.writeFileSync(path.join(shim, '__init__.py'), [
    'from torch_interop import read_safetensors',
    'class safe_open:',
    '    def __init__(self, path, framework):',
    '        assert framework == "pt"',
    '        self._metadata = read_safetensors(path)[1]',
    '    def __enter__(self): return self',
    '    def __exit__(self, *exc): return False',
    '    def metadata(self): return self._metadata',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(shim, 'torch.py'), 'from torch_interop import read_safetensors\ndef load_file(path): return read_safetensors(path)[0]\n');
  return path.dirname(shim);
}

/**
 * Inside a describe: skips the suite when `python` cannot import torch, else gives it a fresh
 * temporary folder (named from prefix), removed after. Read the folder through the getter.
 */
export function torchSuiteDir(python: string, prefix: string): () => string {
  let dir = '';
  before(function () {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60000 });
    if (r.error || r.status !== 0) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });
  return () => dir;
}
