#!/bin/sh
# One run of the defaults grid (README, "Defaults"): trains on bench/data/train.txt with the
# flags given, scores the best checkpoint on bench/data/test.txt, and appends one line to
# $OUT/results.tsv: name, flags, steps, wall seconds, CPU seconds
# (user + sys: with --threads 1, about the wall time on a quiet machine), tokens/s, best validation, test loss.
#   sh bench/tune-run.sh NAME [train flags...]
set -e
NAME=$1; shift
OUT=${OUT:-/tmp/tune}
mkdir -p "$OUT"
CLI="node $(dirname "$0")/../dist/lib/cli/main.js"
DATA=$(dirname "$0")/data
start=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$OUT/$NAME.time" $CLI train --data "$DATA/train.txt" --save "$OUT/$NAME.safetensors" --sample-every 0 --json "$@" > "$OUT/$NAME.jsonl"
end=$(date +%s.%N)
test=$($CLI eval --checkpoint "$OUT/$NAME.best.safetensors" --text "$DATA/test.txt" --json)
node -e '
const fs = require("fs");
const [name, flags, wall, out, test] = process.argv.slice(1);
const cpu = fs.readFileSync(`${out}/${name}.time`, "utf8").trim().split("\n").pop().split(" ").reduce((a, b) => a + Number(b), 0);
const ev = fs.readFileSync(`${out}/${name}.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const done = ev.find((e) => e.event === "done");
const t = JSON.parse(test);
const loss = t.loss ?? t.model?.loss;
const line = [name, flags, done.step, Number(wall).toFixed(1), cpu.toFixed(1), Math.round(ev.filter((e) => e.event === "step").pop().tokensPerSecond),
  done.bestValidationLoss.toFixed(4) + "@" + done.bestStep, loss.toFixed(4)].join("\t");
fs.appendFileSync(`${out}/results.tsv`, line + "\n");
console.log(line);
' "$NAME" "$*" "$(echo "$end - $start" | bc)" "$OUT" "$test"
