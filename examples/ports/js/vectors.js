// Run micrograd-ref's test vectors against engine.js: node vectors.js vectors.json [engine.js]
'use strict';
const fs = require('fs');
const path = require('path');
const { Value } = require(path.resolve(process.argv[3] || path.join(__dirname, 'engine.js')));

const vectors = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
if (vectors.schema_version !== 1) throw new Error(`schema ${vectors.schema_version}: this reads 1`);
const { rel_tol: rel, abs_tol: abs } = vectors.tolerance;
const NAMES = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '**': 'pow' };
const has = (op) => typeof Value.prototype[op.replace('_number', '')] === 'function';
const number = (x) => (typeof x === 'number' ? x : { nan: NaN, inf: Infinity, '-inf': -Infinity }[x]);
const close = (got, want) => (Number.isNaN(want) ? Number.isNaN(got)
  : !Number.isFinite(want) ? got === want : Math.abs(got - want) <= abs + rel * Math.abs(want));

function apply(r, [kind, name, a, b]) {
  if (kind === 'bin') return r[a][NAMES[name]](r[b]);
  if (kind === 'lnum') return r[a][NAMES[name]](b);
  if (kind === 'rnum') return r[b][`r${NAMES[name]}`](a); // the number on the left
  return r[a][name]();
}

function passes({ program, data, grads, root_grad: rootGrad }) {
  try {
    const r = program.leaves.map((x) => new Value(x));
    for (const op of program.ops) r.push(apply(r, op));
    const root = r[r.length - 1];
    for (let i = 0; i < program.backward_calls; i++) root.backward();
    return data.every((x, i) => close(r[i].data, number(x)))
      && grads.every((g, i) => close(r[i].grad, number(g)))
      && (rootGrad === undefined || close(root.grad, number(rootGrad)));
  } catch (e) {
    return false;
  }
}

let passed = 0, failed = 0, skipped = 0;
for (const check of vectors.checks) {
  for (const [i, c] of check.cases.entries()) {
    if (!c.needs.every(has)) skipped++; // an op the engine does not have
    else if (passes(c)) passed++;
    else failed++, console.log(`FAILED ${check.name}: case ${i} ${JSON.stringify(c.program).slice(0, 200)}`);
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
