/* Run micrograd-ref's test vectors against engine.c, reading programs as the adapter does.
 * Build: cc -O2 -o vectors vectors.c engine.c -lm. Run: ./vectors vectors.json */
#define main adapter_main
#include "adapter.c"
#undef main

static double expected(void) { /* a number, or "nan", "inf", "-inf" */
  skip();
  return *p == '"' ? strtod(string(), NULL) : number();
}
static int close_to(double got, double want, double rel, double abs) {
  if (isnan(want)) return isnan(got);
  if (isinf(want)) return got == want;
  return fabs(got - want) <= abs + rel * fabs(want);
}

int main(int argc, char **argv) {
  FILE *file = argc > 1 ? fopen(argv[1], "rb") : NULL;
  if (!file) return fprintf(stderr, "usage: vectors vectors.json\n"), 2;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  rewind(file);
  char *text = malloc(size + 1), check[64] = "", *name;
  text[fread(text, 1, size, file)] = 0;
  if (!strstr(text, "\"schema_version\": 1,")) return fprintf(stderr, "not schema 1\n"), 2;
  double rel = strtod(strstr(text, "\"rel_tol\": ") + 11, NULL);
  double abs = strtod(strstr(text, "\"abs_tol\": ") + 11, NULL);
  int cases = 0, failed = 0;
  for (char *next = text; (p = strstr(next, "{\"program\": ")); next = p) {
    if ((name = strstr(next, "{\"name\": \"")) && name < p) sscanf(name + 10, "%63[^\"]", check);
    p += 12;
    skip(); p++;                                           /* the program's { */
    build();
    string(); p = strchr(p, ']') + 1;                      /* "needs": engine.c has every op */
    int ok = 1;
    string(); skip(); p++;                                 /* "data": [ */
    for (int i = 0; i < n; i++) ok &= close_to(v_data(r[i]), expected(), rel, abs);
    skip(); p++; string(); skip(); p++;                    /* ], "grads": [ */
    for (int i = 0; i < leaves; i++) ok &= close_to(v_grad(r[i]), expected(), rel, abs);
    cases++;
    if (!ok) failed++, printf("FAILED %s: case %d\n", check, cases);
  }
  printf("%d passed, %d failed\n", cases - failed, failed);
  return failed != 0;
}
