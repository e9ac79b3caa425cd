//! The micrograd-ref stdio adapter for engine.rs: JSON lines in, JSON lines out (docs/ports.md).
//! Build: rustc -O adapter.rs. Programs arrive with their keys in the order leaves, ops,
//! backward_calls, root_grad, and no escapes in strings: a few lines read them.
mod engine;
use engine::{Tape, Value};
use std::io::{self, BufRead, Write};

struct Reader<'a> { s: &'a str, i: usize }
impl<'a> Reader<'a> {
    fn skip(&mut self) { while b" ,:\t\r\n".contains(&self.s.as_bytes()[self.i]) { self.i += 1; } }
    fn peek(&mut self) -> u8 { self.skip(); self.s.as_bytes()[self.i] }
    fn bump(&mut self) { self.skip(); self.i += 1; }
    fn until(&mut self, stops: &[u8]) -> &'a str {
        let start = self.i;
        while !stops.contains(&self.s.as_bytes()[self.i]) { self.i += 1; }
        &self.s[start..self.i]
    }
    fn string(&mut self) -> &'a str { self.bump(); let s = self.until(b"\""); self.i += 1; s }
    fn token(&mut self) -> &'a str { self.skip(); self.until(b", ]}") }
    fn number(&mut self) -> f64 { self.token().parse().unwrap() }
}

fn binary(t: &mut Tape, op: &str, a: Value, b: Value) -> Value {
    match op { "+" => t.add(a, b), "-" => t.sub(a, b), "*" => t.mul(a, b), "/" => t.div(a, b), _ => t.pow(a, b) }
}
fn unary(t: &mut Tape, op: &str, a: Value) -> Value {
    match op { "neg" => t.neg(a), "exp" => t.exp(a), "log" => t.log(a), "tanh" => t.tanh(a), "relu" => t.relu(a), _ => t.sigmoid(a) }
}
fn num(x: f64) -> String { // JSON has no nan or infinities: they travel as strings
    if x.is_nan() { "\"nan\"".into() } else if x.is_infinite() { (if x > 0.0 { "\"inf\"" } else { "\"-inf\"" }).into() } else { format!("{x:?}") }
}

fn run(r: &mut Reader, t: &mut Tape) -> String {
    let mut regs: Vec<Value> = vec![];
    r.string(); r.bump(); // "leaves": [
    while r.peek() != b']' { let x = r.number(); regs.push(t.leaf(x)); }
    let leaves = regs.len();
    r.bump(); r.string(); r.bump(); // ], "ops": [
    while r.peek() == b'[' {
        r.bump();
        let (kind, op) = (r.string(), r.string());
        let v = match kind {
            "un" => { let a = regs[r.number() as usize]; unary(t, op, a) }
            "bin" => { let (a, b) = (regs[r.number() as usize], regs[r.number() as usize]); binary(t, op, a, b) }
            "lnum" => { let (a, c) = (regs[r.number() as usize], r.number()); if op == "**" { t.powc(a, c) } else { let c = t.leaf(c); binary(t, op, a, c) } }
            _ => { let c = t.leaf(r.number()); let b = regs[r.number() as usize]; binary(t, op, c, b) } // the number on the left
        };
        regs.push(v);
        r.bump(); // ]
    }
    r.bump(); r.string(); let calls = r.number() as usize; r.string(); r.token(); r.bump(); // ], "backward_calls": k, "root_grad": b }
    let root = regs[regs.len() - 1];
    for _ in 0..calls { t.backward(root); }
    let data: Vec<String> = regs.iter().map(|&v| num(t.data(v))).collect();
    let grads: Vec<String> = regs[..leaves].iter().map(|&v| num(t.grad(v))).collect();
    format!("{{\"data\": [{}], \"grads\": [{}], \"root_grad\": {}}}", data.join(", "), grads.join(", "), num(t.grad(root)))
}

fn main() {
    let ops = ["add", "sub", "mul", "div", "pow", "add_number", "sub_number", "mul_number", "div_number", "pow_number",
               "radd", "rsub", "rmul", "rdiv", "rpow", "neg", "exp", "log", "tanh", "relu", "sigmoid"];
    let listed: Vec<String> = ops.iter().map(|op| format!("\"{op}\"")).collect();
    let mut out = io::stdout();
    writeln!(out, "{{\"hello\": \"micrograd-adapter\", \"protocol\": 1, \"engine\": \"engine.rs\", \"ops\": [{}]}}", listed.join(", ")).unwrap();
    out.flush().unwrap();
    for line in io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut r = Reader { s: &line, i: line.find('[').unwrap() + 1 }; // {"programs": [
        let mut results = vec![];
        while r.peek() == b'{' { r.bump(); results.push(run(&mut r, &mut Tape::default())); }
        writeln!(out, "{{\"results\": [{}]}}", results.join(", ")).unwrap();
        out.flush().unwrap();
    }
}
