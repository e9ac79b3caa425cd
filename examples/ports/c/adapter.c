/* The micrograd-ref stdio adapter for engine.c: JSON lines in, JSON lines out (docs/ports.md).
 * Build: cc -O2 -o adapter adapter.c engine.c -lm. Programs arrive with their keys in the
 * order leaves, ops, backward_calls, root_grad, and no escapes in strings: a few lines read them. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static char *p; /* where the request is read */
static void skip(void) { p += strspn(p, " ,:\t\r\n"); }
static double number(void) { skip(); return strtod(p, &p); }
static char *string(void) { skip(); char *s = ++p; p = strchr(p, '"'); *p++ = 0; return s; }

static Value binary(const char *op, Value a, Value b) {
  switch (op[0] == '*' && op[1] == '*' ? '^' : op[0]) {
    case '+': return v_add(a, b);  case '-': return v_sub(a, b);
    case '*': return v_mul(a, b);  case '/': return v_div(a, b);
    default: return v_pow(a, b);
  }
}
static const char *UNARY[] = {"neg", "exp", "log", "tanh", "relu", "sigmoid"};
static Value (*const APPLY[])(Value) = {v_neg, v_exp, v_log, v_tanh, v_relu, v_sigmoid};
static Value unary(const char *op, Value a) {
  int i = 0;
  while (i < 5 && strcmp(op, UNARY[i])) i++;
  return APPLY[i](a);
}
static void put(double x) { /* JSON has no nan or infinities: they travel as strings */
  if (isnan(x)) printf("\"nan\""); else if (isinf(x)) printf(x > 0 ? "\"inf\"" : "\"-inf\"");
  else printf("%.17g", x);
}

static Value r[1 << 20]; /* registers */
static int n, leaves;
static void build(void) { /* one program, from its { on: its graph, then backward */
  n = 0;
  v_clear();
  string(); skip(); p++;                                            /* "leaves": [ */
  while (skip(), *p != ']') r[n++] = v_new(number());
  leaves = n; p++; string(); skip(); p++;                           /* ], "ops": [ */
  while (skip(), *p == '[') {
    p++; char *kind = string(), *op = string();
    if (kind[0] == 'u') { int a = number(); r[n] = unary(op, r[a]); }
    else if (kind[0] == 'b') { int a = number(), b = number(); r[n] = binary(op, r[a], r[b]); }
    else if (kind[0] == 'l') { int a = number(); double c = number();
      r[n] = !strcmp(op, "**") ? v_powc(r[a], c) : binary(op, r[a], v_new(c)); }
    else { double c = number(); int b = number(); r[n] = binary(op, v_new(c), r[b]); }
    n++; skip(); p++;                                               /* ] */
  }
  p++; string(); int calls = number(); string(); skip();            /* ], "backward_calls": k, "root_grad": */
  p += strspn(p, "truefals"); skip(); p++;                          /* true or false } */
  for (int i = 0; i < calls; i++) v_backward(r[n - 1]);
}

int main(void) {
  printf("{\"hello\": \"micrograd-adapter\", \"protocol\": 1, \"engine\": \"engine.c\", \"ops\": "
         "[\"add\", \"sub\", \"mul\", \"div\", \"pow\", \"add_number\", \"sub_number\", "
         "\"mul_number\", \"div_number\", \"pow_number\", \"radd\", \"rsub\", \"rmul\", \"rdiv\", "
         "\"rpow\", \"neg\", \"exp\", \"log\", \"tanh\", \"relu\", \"sigmoid\"]}\n");
  fflush(stdout);
  char *line = NULL;
  size_t size = 0;
  while (getline(&line, &size, stdin) > 0) {
    p = strchr(line, '[') + 1;                                      /* {"programs": [ */
    printf("{\"results\": [");
    for (int first = 1; skip(), *p == '{'; first = 0) {
      p++;
      build();
      printf("%s{\"data\": [", first ? "" : ", ");
      for (int i = 0; i < n; i++) printf(i ? ", " : ""), put(v_data(r[i]));
      printf("], \"grads\": [");
      for (int i = 0; i < leaves; i++) printf(i ? ", " : ""), put(v_grad(r[i]));
      printf("], \"root_grad\": "), put(v_grad(r[n - 1])), printf("}");
    }
    printf("]}\n");
    fflush(stdout);
  }
  return 0;
}
