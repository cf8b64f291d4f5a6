#!/usr/bin/env node
// Writes the files made from native/kernels.json (see lib/backend/decl/generate.ts):
//   native/addon/kernel_table.inc      the C++ checker's tables
//   lib/backend/kernels.generated.ts   the Kernels interface
// Run through `npm run gen:kernels` (which compiles the TypeScript first).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const { loadDeclarations } = require(path.join(root, 'dist', 'lib', 'backend', 'decl', 'table.js'));
const { generateCppTable, generateTypes } = require(path.join(root, 'dist', 'lib', 'backend', 'decl', 'generate.js'));

const decls = loadDeclarations(path.join(root, 'native', 'kernels.json'));
const outputs = {
  'native/addon/kernel_table.inc': generateCppTable(decls),
  'lib/backend/kernels.generated.ts': generateTypes(decls),
};
for (const [file, text] of Object.entries(outputs)) {
  const target = path.join(root, file);
  const old = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
  if (old === text) continue;
  fs.writeFileSync(target, text);
  console.log(`wrote ${file}`);
}
