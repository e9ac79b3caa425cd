/* A scalar autograd engine in C: a Value is an index into a tape of nodes. */
#ifndef ENGINE_H
#define ENGINE_H

typedef int Value;

Value v_new(double data);
Value v_add(Value a, Value b);
Value v_sub(Value a, Value b);
Value v_mul(Value a, Value b);
Value v_div(Value a, Value b);
Value v_pow(Value a, Value b);   /* a ** b for a > 0 */
Value v_powc(Value a, double k); /* a ** k for a number k */
Value v_neg(Value a);
Value v_exp(Value a);
Value v_log(Value a);
Value v_tanh(Value a);
Value v_relu(Value a);
Value v_sigmoid(Value a);
void v_backward(Value root);
double v_data(Value v);
double v_grad(Value v);
void v_clear(void); /* forget every Value */

#endif
