/* A scalar autograd engine in C: each node keeps its (at most two) children and the local
 * derivative towards each; v_backward() applies the chain rule once, walking the tape. */
#include <math.h>
#include <stdlib.h>

#include "engine.h"

typedef struct {
  double data, grad, local[2];
  int child[2]; /* -1: none */
} Node;

static Node *tape;
static int size, capacity;

static Value node(double data, int a, double da, int b, double db) {
  if (size == capacity) {
    capacity = capacity ? 2 * capacity : 1024;
    tape = realloc(tape, capacity * sizeof *tape);
  }
  tape[size] = (Node){data, 0, {da, db}, {a, b}};
  return size++;
}

Value v_new(double x) { return node(x, -1, 0, -1, 0); }
Value v_add(Value a, Value b) { return node(tape[a].data + tape[b].data, a, 1, b, 1); }
Value v_sub(Value a, Value b) { return node(tape[a].data - tape[b].data, a, 1, b, -1); }
Value v_mul(Value a, Value b) {
  double x = tape[a].data, y = tape[b].data;
  return node(x * y, a, y, b, x);
}
Value v_div(Value a, Value b) {
  double x = tape[a].data, y = tape[b].data;
  return node(x / y, a, 1 / y, b, -x / (y * y));
}
Value v_pow(Value a, Value b) {
  double x = tape[a].data, y = tape[b].data, p = pow(x, y);
  return node(p, a, y * pow(x, y - 1), b, p * log(x));
}
Value v_powc(Value a, double k) {
  double x = tape[a].data;
  return node(pow(x, k), a, k * pow(x, k - 1), -1, 0);
}
Value v_neg(Value a) { return node(-tape[a].data, a, -1, -1, 0); }
Value v_exp(Value a) {
  double e = exp(tape[a].data);
  return node(e, a, e, -1, 0);
}
Value v_log(Value a) {
  double x = tape[a].data;
  return node(log(x), a, 1 / x, -1, 0);
}
Value v_tanh(Value a) {
  double t = tanh(tape[a].data);
  return node(t, a, 1 - t * t, -1, 0);
}
Value v_relu(Value a) { /* relu'(0) = 0 */
  double x = tape[a].data;
  return node(x > 0 ? x : 0, a, x > 0 ? 1 : 0, -1, 0);
}
Value v_sigmoid(Value a) { /* exp of -|x| never overflows */
  double x = tape[a].data, e = exp(-fabs(x)), s = x >= 0 ? 1 / (1 + e) : e / (1 + e);
  return node(s, a, s * (1 - s), -1, 0);
}

/* A node's children are older than it, so the tape read backwards from the root is a
 * topological order: no sort, no recursion. */
void v_backward(Value root) {
  char *reached = calloc(root + 1, 1);
  reached[root] = 1;
  for (int i = root; i >= 0; i--)
    for (int k = 0; k < 2; k++)
      if (reached[i] && tape[i].child[k] >= 0) reached[tape[i].child[k]] = 1;
  for (int i = 0; i <= root; i++)
    if (reached[i] && tape[i].child[0] >= 0) tape[i].grad = 0; /* interior nodes start again */
  tape[root].grad = 1;
  for (int i = root; i >= 0; i--) /* from the root down */
    for (int k = 0; k < 2; k++)
      if (reached[i] && tape[i].child[k] >= 0)
        tape[tape[i].child[k]].grad += tape[i].local[k] * tape[i].grad; /* accumulate */
  free(reached);
}

double v_data(Value v) { return tape[v].data; }
double v_grad(Value v) { return tape[v].grad; }
void v_clear(void) { size = 0; }
