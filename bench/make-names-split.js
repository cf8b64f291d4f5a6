#!/usr/bin/env node
// Makes the names-like split the CLI's defaults were chosen on (README, "Defaults"): the words
// of Debian's wamerican list (/usr/share/dict/american-english, `apt-get install wamerican`)
// that are lowercase letters a-z only (no proper nouns, no "'s"), deduplicated, shuffled with
// a fixed seed, then 31,000 to train and 1,000 to test, one word a line. The shape of a list
// of ~32,000 first names (makemore's names.txt is 32,033), which is not available offline.
//
//   node bench/make-names-split.js [--dict FILE] [--out DIR] [--train 31000] [--test 1000] [--seed 1]
//
// Writes DIR/train.txt and DIR/test.txt (default DIR: bench/data) and prints their line
// counts and sha256, so a figure measured on them names the very text it was measured on.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

function args(argv) {
  const o = { dict: '/usr/share/dict/american-english', out: path.join(__dirname, 'data'), train: 31000, test: 1000, seed: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in o) || argv[i + 1] === undefined) throw new RangeError(`unknown or incomplete argument ${argv[i]}`);
    o[key] = typeof o[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return o;
}

/** mulberry32: a small seeded generator; the split only has to be the same on every machine. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function main() {
  const o = args(process.argv.slice(2));
  const words = [...new Set(fs.readFileSync(o.dict, 'utf8').split('\n').filter((w) => /^[a-z]+$/.test(w)))].sort();
  if (words.length < o.train + o.test) throw new RangeError(`${o.dict}: ${words.length} words, fewer than ${o.train + o.test}`);
  const rand = mulberry32(o.seed);
  for (let i = words.length - 1; i > 0; i--) { // Fisher-Yates
    const j = Math.floor(rand() * (i + 1));
    [words[i], words[j]] = [words[j], words[i]];
  }
  fs.mkdirSync(o.out, { recursive: true });
  const parts = { train: words.slice(0, o.train), test: words.slice(o.train, o.train + o.test) };
  for (const [name, lines] of Object.entries(parts)) {
    const text = lines.join('\n') + '\n';
    const file = path.join(o.out, `${name}.txt`);
    fs.writeFileSync(file, text);
    const sha = crypto.createHash('sha256').update(text).digest('hex');
    console.log(`${file}: ${lines.length} lines, ${text.length} characters, sha256 ${sha}`);
  }
  console.log(`(from ${words.length} words of ${o.dict}, seed ${o.seed})`);
}

main();
