// A scalar autograd engine in JavaScript: micrograd's Value, with methods for the operators.
// Each node keeps its children and the local derivative towards each; backward() applies the
// chain rule once, over an order built with an explicit stack (no recursion).
'use strict';

class Value {
  constructor(data, children = [], localGrads = []) {
    this.data = data;
    this.grad = 0;
    this._children = children;
    this._localGrads = localGrads;
  }

  static of(x) { return x instanceof Value ? x : new Value(x); }

  add(other) { other = Value.of(other); return new Value(this.data + other.data, [this, other], [1, 1]); }
  mul(other) { other = Value.of(other); return new Value(this.data * other.data, [this, other], [other.data, this.data]); }
  pow(other) {
    if (other instanceof Value) { // a ** b: d/da = b a^(b-1), d/db = a^b ln a
      const out = this.data ** other.data;
      return new Value(out, [this, other], [other.data * this.data ** (other.data - 1), out * Math.log(this.data)]);
    }
    return new Value(this.data ** other, [this], [other * this.data ** (other - 1)]);
  }
  neg() { return this.mul(-1); }
  sub(other) { return this.add(Value.of(other).neg()); }
  div(other) { return this.mul(Value.of(other).pow(-1)); }
  radd(c) { return this.add(c); } // c + this
  rsub(c) { return this.neg().add(c); } // c - this
  rmul(c) { return this.mul(c); } // c * this
  rdiv(c) { return this.pow(-1).mul(c); } // c / this
  rpow(c) { return new Value(c).pow(this); } // c ** this
  exp() { const e = Math.exp(this.data); return new Value(e, [this], [e]); }
  log() { return new Value(Math.log(this.data), [this], [1 / this.data]); }
  tanh() { const t = Math.tanh(this.data); return new Value(t, [this], [1 - t * t]); }
  relu() { return new Value(Math.max(0, this.data), [this], [this.data > 0 ? 1 : 0]); } // relu'(0) = 0
  sigmoid() {
    const e = Math.exp(-Math.abs(this.data)); // never overflows
    const s = this.data >= 0 ? 1 / (1 + e) : e / (1 + e);
    return new Value(s, [this], [s * (1 - s)]);
  }

  backward() {
    const order = [];
    const seen = new Set();
    const stack = [[this, false]];
    while (stack.length) {
      const [v, expanded] = stack.pop();
      if (expanded) { order.push(v); continue; }
      if (seen.has(v)) continue;
      seen.add(v);
      stack.push([v, true]);
      for (const c of v._children) if (!seen.has(c)) stack.push([c, false]);
    }
    for (const v of order) if (v._children.length) v.grad = 0; // interior nodes start again
    this.grad = 1;
    for (const v of order.reverse()) {
      v._children.forEach((c, i) => { c.grad += v._localGrads[i] * v.grad; }); // gradients accumulate
    }
  }
}

module.exports = { Value };
