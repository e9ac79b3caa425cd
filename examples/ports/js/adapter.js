// The micrograd-ref stdio adapter for engine.js: node adapter.js [engine.js]
// JSON lines in, JSON lines out (docs/ports.md): one hello, then one answer per request.
'use strict';
const path = require('path');
const readline = require('readline');
const { Value } = require(path.resolve(process.argv[2] || path.join(__dirname, 'engine.js')));

const NAMES = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '**': 'pow' };
const has = (method) => typeof Value.prototype[method] === 'function';
const ops = [];
for (const name of Object.values(NAMES)) {
  if (has(name)) ops.push(name, `${name}_number`);
  if (has(`r${name}`)) ops.push(`r${name}`);
}
ops.push(...['neg', 'exp', 'log', 'tanh', 'relu', 'sigmoid'].filter(has));

function apply(r, [kind, name, a, b]) {
  if (kind === 'bin') return r[a][NAMES[name]](r[b]);
  if (kind === 'lnum') return r[a][NAMES[name]](b);
  if (kind === 'rnum') return r[b][`r${NAMES[name]}`](a); // the number on the left
  return r[a][name]();
}

// JSON has no nan or infinities: they travel as strings.
const num = (x) => (Number.isFinite(x) ? x : Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');

function run(program) {
  const r = [];
  let phase = 'forward';
  try {
    for (const x of program.leaves) r.push(new Value(x));
    for (const op of program.ops) r.push(apply(r, op));
    const root = r[r.length - 1];
    phase = 'backward';
    for (let i = 0; i < (program.backward_calls || 1); i++) root.backward();
    phase = 'read';
    const grads = r.slice(0, program.leaves.length).map((v) => num(v.grad));
    return { data: r.map((v) => num(v.data)), grads, root_grad: num(root.grad) };
  } catch (e) {
    return { error: String(e), type: e && e.name, phase, step: r.length };
  }
}

console.log(JSON.stringify({ hello: 'micrograd-adapter', protocol: 1, engine: 'engine.js', ops }));
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const { programs } = JSON.parse(line);
  process.stdout.write(`${JSON.stringify({ results: programs.map(run) })}\n`);
});
