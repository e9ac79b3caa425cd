//! A scalar autograd engine in Rust: a Value is an index into a tape of nodes, each with its
//! children and the local derivative towards each; backward() applies the chain rule once.

pub type Value = usize;

struct Node {
    data: f64,
    grad: f64,
    children: Vec<(Value, f64)>,
}

#[derive(Default)]
pub struct Tape {
    nodes: Vec<Node>,
}

impl Tape {
    fn push(&mut self, data: f64, children: Vec<(Value, f64)>) -> Value {
        self.nodes.push(Node { data, grad: 0.0, children });
        self.nodes.len() - 1
    }
    pub fn leaf(&mut self, x: f64) -> Value { self.push(x, vec![]) }
    pub fn data(&self, v: Value) -> f64 { self.nodes[v].data }
    pub fn grad(&self, v: Value) -> f64 { self.nodes[v].grad }
    pub fn add(&mut self, a: Value, b: Value) -> Value {
        self.push(self.data(a) + self.data(b), vec![(a, 1.0), (b, 1.0)])
    }
    pub fn sub(&mut self, a: Value, b: Value) -> Value {
        self.push(self.data(a) - self.data(b), vec![(a, 1.0), (b, -1.0)])
    }
    pub fn mul(&mut self, a: Value, b: Value) -> Value {
        let (x, y) = (self.data(a), self.data(b));
        self.push(x * y, vec![(a, y), (b, x)])
    }
    pub fn div(&mut self, a: Value, b: Value) -> Value {
        let (x, y) = (self.data(a), self.data(b));
        self.push(x / y, vec![(a, 1.0 / y), (b, -x / (y * y))])
    }
    pub fn pow(&mut self, a: Value, b: Value) -> Value { // a ** b for a > 0
        let (x, y) = (self.data(a), self.data(b));
        let p = x.powf(y);
        self.push(p, vec![(a, y * x.powf(y - 1.0)), (b, p * x.ln())])
    }
    pub fn powc(&mut self, a: Value, k: f64) -> Value {
        let x = self.data(a);
        self.push(x.powf(k), vec![(a, k * x.powf(k - 1.0))])
    }
    pub fn neg(&mut self, a: Value) -> Value { self.push(-self.data(a), vec![(a, -1.0)]) }
    pub fn exp(&mut self, a: Value) -> Value {
        let e = self.data(a).exp();
        self.push(e, vec![(a, e)])
    }
    pub fn log(&mut self, a: Value) -> Value {
        let x = self.data(a);
        self.push(x.ln(), vec![(a, 1.0 / x)])
    }
    pub fn tanh(&mut self, a: Value) -> Value {
        let t = self.data(a).tanh();
        self.push(t, vec![(a, 1.0 - t * t)])
    }
    pub fn relu(&mut self, a: Value) -> Value { // relu'(0) = 0
        let x = self.data(a);
        self.push(x.max(0.0), vec![(a, if x > 0.0 { 1.0 } else { 0.0 })])
    }
    pub fn sigmoid(&mut self, a: Value) -> Value { // exp of -|x| never overflows
        let x = self.data(a);
        let e = (-x.abs()).exp();
        let s = if x >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
        self.push(s, vec![(a, s * (1.0 - s))])
    }

    /// Children are older than their node: the tape read backwards from the root is a
    /// topological order, with no sort and no recursion.
    pub fn backward(&mut self, root: Value) {
        let mut reached = vec![false; root + 1];
        reached[root] = true;
        for i in (0..=root).rev() {
            if reached[i] {
                for &(c, _) in &self.nodes[i].children { reached[c] = true; }
            }
        }
        for i in 0..=root {
            if reached[i] && !self.nodes[i].children.is_empty() { self.nodes[i].grad = 0.0; } // interior nodes start again
        }
        self.nodes[root].grad = 1.0;
        for i in (0..=root).rev() {
            if !reached[i] { continue; }
            let g = self.nodes[i].grad;
            for k in 0..self.nodes[i].children.len() {
                let (c, local) = self.nodes[i].children[k];
                self.nodes[c].grad += local * g; // gradients accumulate
            }
        }
    }
}
