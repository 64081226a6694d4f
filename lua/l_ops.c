/*
** Arithmetic metamethods and the math, reduction, matmul and loss functions.
** Each is both a method (x:exp()) and a module function (lg.exp(x)).
** The functions here only check arguments and translate dims; all numerics
** are the core's.
*/
#include "luagan.h"

#include <math.h>
#include <string.h>

/* {====================================================== arithmetic */

/* An operand of a binary op: a tensor (returned) or a number (in *num). */
static lg_tensor *operand(lua_State *L, int arg, lua_Number *num) {
  lg_tensor *t = lgL_totensor(L, arg);
  if (t == NULL) {
    if (lua_type(L, arg) != LUA_TNUMBER) luaL_typeerror(L, arg, "tensor or number");
    *num = lua_tonumber(L, arg);
  }
  return t;
}

/* Both operands of a binary op; at least one must be a tensor. */
static void operands(lua_State *L, const char *op, lg_tensor **a, lg_tensor **b,
                     lua_Number *num) {
  *a = operand(L, 1, num);
  *b = operand(L, 2, num);
  if (*a == NULL && *b == NULL)
    luaL_error(L, "%s: at least one operand must be a tensor", op);
}

static int t_add (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  operands(L, "add", &a, &b, &s);
  r = lgL_newslot(L);
  if (a && b) return lgL_settensor(L, r, lg_add(a, b));
  return lgL_settensor(L, r, lg_add_scalar(a ? a : b, (float)s));
}

static int t_sub (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  operands(L, "sub", &a, &b, &s);
  r = lgL_newslot(L);
  if (a && b) return lgL_settensor(L, r, lg_sub(a, b));
  if (a) return lgL_settensor(L, r, lg_add_scalar(a, -(float)s));
  return lgL_settensor(L, r, lg_rsub_scalar(b, (float)s));
}

static int t_mul (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  operands(L, "mul", &a, &b, &s);
  r = lgL_newslot(L);
  if (a && b) return lgL_settensor(L, r, lg_mul(a, b));
  return lgL_settensor(L, r, lg_mul_scalar(a ? a : b, (float)s));
}

/* x / s must round like a true division.  Multiplying by 1/s does exactly
** that when s is a power of two with a normal reciprocal (both results are
** the same real number, rounded once); any other s divides by a 0-dim
** tensor. */
static lg_tensor *div_scalar(lg_tensor *a, float s) {
  int e;
  float m = frexpf(s, &e), inv = 1.0f / s;
  lg_tensor *d, *out;
  if ((m == 0.5f || m == -0.5f) && isnormal(inv)) return lg_mul_scalar(a, inv);
  if ((d = lg_scalar(s)) == NULL) return NULL;
  out = lg_div(a, d);
  lg_release(d);
  return out;
}

static int t_div (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  operands(L, "div", &a, &b, &s);
  r = lgL_newslot(L);
  if (a && b) return lgL_settensor(L, r, lg_div(a, b));
  if (a) return lgL_settensor(L, r, div_scalar(a, (float)s));
  return lgL_settensor(L, r, lg_rdiv_scalar(b, (float)s));
}

static int t_neg (lua_State *L) {
  lg_tensor *a = lgL_checktensor(L, 1);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_neg(a));
}

/* s ^ x = exp(x log s), for a positive number s */
static lg_tensor *number_pow(lg_tensor *x, lua_Number s) {
  lg_tensor *t = lg_mul_scalar(x, (float)log(s)), *out;
  if (t == NULL) return NULL;
  out = lg_exp(t);
  lg_release(t);
  return out;
}

/* x ^ p and x:pow(p) with a number p; s ^ x with a positive number s. */
static int t_pow (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  operands(L, "pow", &a, &b, &s);
  if (a && b)
    return luaL_error(L, "pow: the exponent must be a number, got a tensor "
                      "(for x ^ y use lg.exp(y * lg.log(x)))");
  if (b && !(s > 0))
    return luaL_error(L, "pow: number ^ tensor needs a positive base, got %f", s);
  r = lgL_newslot(L);
  if (a) return lgL_settensor(L, r, lg_pow(a, (float)s));
  return lgL_settensor(L, r, number_pow(b, s));
}

/* }====================================================== */

/* {====================================================== unary math */

#define UNARY(name, fn)                                   \
  static int name (lua_State *L) {                        \
    lg_tensor *x = lgL_checktensor(L, 1);                 \
    lg_tensor **r = lgL_newslot(L);                       \
    return lgL_settensor(L, r, fn(x));                    \
  }

UNARY(t_exp, lg_exp)
UNARY(t_log, lg_log)
UNARY(t_sqrt, lg_sqrt)
UNARY(t_abs, lg_abs)
UNARY(t_sign, lg_sign)
UNARY(t_relu, lg_relu)
UNARY(t_sigmoid, lg_sigmoid)
UNARY(t_tanh, lg_tanh)
UNARY(t_softplus, lg_softplus)
UNARY(t_sin, lg_sin)
UNARY(t_cos, lg_cos)

static int t_leaky_relu (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  float slope = lua_isnoneornil(L, 2) ? 0.01f : lgL_checkfloat(L, 2);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_leaky_relu(x, slope));
}

/* x:clamp(lo, hi); nil leaves that side unbounded. */
static int t_clamp (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  float lo = lua_isnoneornil(L, 2) ? -INFINITY : lgL_checkfloat(L, 2);
  float hi = lua_isnoneornil(L, 3) ? INFINITY : lgL_checkfloat(L, 3);
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
    return luaL_error(L, "clamp: give at least one of min and max");
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_clamp(x, lo, hi));
}

/* x:softmax(d), x:log_softmax(d); d defaults to the last dim. */
static int t_softmax (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  int d = lgL_optdim(L, 2, x, "softmax", x->ndim - 1);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_softmax(x, d));
}

static int t_log_softmax (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  int d = lgL_optdim(L, 2, x, "log_softmax", x->ndim - 1);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_log_softmax(x, d));
}

/* }====================================================== */

/* {====================================================== reductions */

static int optkeepdim(lua_State *L, int arg, const char *op) {
  if (lua_isnoneornil(L, arg)) return 0;
  if (lua_type(L, arg) != LUA_TBOOLEAN)
    return luaL_error(L, "%s: keepdim must be a boolean, got %s", op, luaL_typename(L, arg));
  return lua_toboolean(L, arg);
}

/* A 0-dim result viewed with as many size-1 dims as t has (keepdim over all). */
static lg_tensor *keep_all(lg_tensor *r, const lg_tensor *t) {
  int64_t ones[LG_MAXDIM];
  lg_tensor *v;
  if (r == NULL || t->ndim == 0) return r;
  for (int i = 0; i < t->ndim; i++) ones[i] = 1;
  v = lg_view(r, t->ndim, ones);
  lg_release(r);
  return v;
}

typedef lg_tensor *(*allfn)(lg_tensor *);
typedef lg_tensor *(*dimfn)(lg_tensor *, int, bool);

/* x:sum(), x:sum(d), x:sum(d, keepdim), x:sum(nil, true); same for mean. */
static int reduce(lua_State *L, const char *op, allfn all, dimfn bydim) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  int keep = optkeepdim(L, 3, op), d;
  if (lua_isnoneornil(L, 2)) {
    r = lgL_newslot(L);
    return lgL_settensor(L, r, keep ? keep_all(all(x), x) : all(x));
  }
  d = lgL_checkdim(L, 2, x, op);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, bydim(x, d, keep));
}

static int t_sum (lua_State *L) { return reduce(L, "sum", lg_sum, lg_sum_dim); }
static int t_mean (lua_State *L) { return reduce(L, "mean", lg_mean, lg_mean_dim); }

/* x:max() -> 0-dim max; x:max(d, keepdim) -> values, indices (1-based). */
static int t_max (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **v, **ix, *idx = NULL, *val, *one;
  int keep = optkeepdim(L, 3, "max"), d;
  if (lua_isnoneornil(L, 2)) {
    v = lgL_newslot(L);
    return lgL_settensor(L, v, keep ? keep_all(lg_max(x), x) : lg_max(x));
  }
  d = lgL_checkdim(L, 2, x, "max");
  v = lgL_newslot(L);
  ix = lgL_newslot(L);
  val = lg_max_dim(x, d, keep, &idx);
  if (val == NULL) {
    lg_release(idx);
    return lgL_coreerror(L);
  }
  *v = val;
  one = lg_add_scalar(idx, 1.0f);   /* the core counts from 0 */
  lg_release(idx);
  return lgL_settensor(L, ix, one) + 1;
}

/* The integers at arg (1-based class numbers or positions): a tensor, or a
** Lua list turned into a new tensor that a userdata pushed on the stack owns. */
static lg_tensor *integers(lua_State *L, int arg, const char *op, const char *what) {
  lg_tensor *t = lgL_totensor(L, arg), **r;
  int64_t n;
  float *d;
  if (t != NULL) return t;
  if (lua_type(L, arg) != LUA_TTABLE) {
    luaL_typeerror(L, arg, "tensor or table of integers");
    return NULL;
  }
  n = (int64_t)lua_rawlen(L, arg);
  r = lgL_newslot(L);
  lgL_settensor(L, r, lg_empty(1, &n));
  d = lg_data(*r);
  for (int64_t i = 0; i < n; i++) {
    int isint;
    lua_Integer v;
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : (isint = 0);
    if (!isint)
      luaL_error(L, "%s: %s at position %I must be an integer, got %s", op, what,
                 (lua_Integer)i + 1, lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1)
                                                                    : luaL_typename(L, -1));
    d[i] = (float)v;
    lua_pop(L, 1);
  }
  return *r;
}

/* x:index_select(d, idx): the slices of x along d at the 1-based positions
** idx (a tensor or a list), e.g. a minibatch of rows. */
static int t_index_select (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  int d = lgL_checkdim(L, 2, x, "index_select");
  lua_settop(L, 3);
  lg_tensor *idx = integers(L, 3, "index_select", "index");
  if (idx->numel > 0) {   /* range-check here so the message counts from 1 */
    lg_tensor **hi = lgL_newslot(L), **neg = lgL_newslot(L), **lo = lgL_newslot(L);
    lgL_settensor(L, hi, lg_max(idx));
    lgL_settensor(L, neg, lg_neg(idx));
    lgL_settensor(L, lo, lg_max(*neg));
    float top = lg_item(*hi), bottom = -lg_item(*lo);
    /* negated tests so that NaN fails them; the bad value is printed as a
    ** number: converting NaN or 1e30 to int is undefined */
    if (!(bottom >= 1) || !((double)top <= (double)x->shape[d])) {
      char buf[128];
      lua_Number bad = !(bottom >= 1) ? bottom : top;
      lua_Integer ib;
      if (bad == floor(bad) && lua_numbertointeger(bad, &ib)) lua_pushfstring(L, "%I", ib);
      else lua_pushfstring(L, "%f", bad);
      return luaL_error(L, "index_select: index %s out of range 1..%I for dim %d of shape %s",
                        lua_tostring(L, -1), (lua_Integer)x->shape[d], d + 1,
                        lg_shape_str(x, buf, sizeof buf));
    }
  }
  lg_tensor **zero_based = lgL_newslot(L);
  lgL_settensor(L, zero_based, lg_add_scalar(idx, -1.0f));
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_index_select(x, d, *zero_based));
}

/* }====================================================== */

/* {====================================================== matmul, linear */

static int t_matmul (lua_State *L) {
  lg_tensor *a = lgL_checktensor(L, 1), *b = lgL_checktensor(L, 2);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_matmul(a, b));
}

/* lg.linear(x, w[, b]): x w^T + b, weights [out,in] as in PyTorch. */
static int l_linear (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *w = lgL_checktensor(L, 2);
  lg_tensor *b = lgL_opttensor(L, 3), **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_linear(x, w, b));
}

/* }====================================================== */

/* {====================================================== losses */

typedef lg_tensor *(*pairfn)(lg_tensor *, lg_tensor *);

/* loss(a, b) where b may be a number standing for a tensor full of it
** (lg.bce_with_logits(d_out, 1) for a "real" target). */
static int pair_loss(lua_State *L, pairfn f) {
  lg_tensor *a = lgL_checktensor(L, 1), *b = lgL_totensor(L, 2), **r, *full, *out;
  float v = 0;
  if (b == NULL) {
    if (lua_type(L, 2) != LUA_TNUMBER) return luaL_typeerror(L, 2, "tensor or number");
    v = lgL_checkfloat(L, 2);
  }
  r = lgL_newslot(L);
  if (b) return lgL_settensor(L, r, f(a, b));
  if ((full = lg_full(a->ndim, a->shape, v)) == NULL) return lgL_coreerror(L);
  out = f(a, full);
  lg_release(full);
  return lgL_settensor(L, r, out);
}

static int l_bce_with_logits (lua_State *L) { return pair_loss(L, lg_bce_with_logits); }
static int l_mse (lua_State *L) { return pair_loss(L, lg_mse); }
static int l_l1 (lua_State *L) { return pair_loss(L, lg_l1); }

/* lg.cross_entropy(logits [N,C], labels): labels are class numbers 1..C,
** as a tensor [N] or a Lua list; the core checks their range. */
static int l_cross_entropy (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  lua_settop(L, 2);
  lg_tensor *labels = integers(L, 2, "cross_entropy", "label");
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_cross_entropy(x, labels));
}

/* }====================================================== */

const luaL_Reg lgL_ops_meta[] = {
  {"__add", t_add},
  {"__sub", t_sub},
  {"__mul", t_mul},
  {"__div", t_div},
  {"__unm", t_neg},
  {"__pow", t_pow},
  {NULL, NULL}
};

/* Shared by methods and module functions. */
#define MATH_FUNCS                    \
  {"add", t_add},                     \
  {"sub", t_sub},                     \
  {"mul", t_mul},                     \
  {"div", t_div},                     \
  {"neg", t_neg},                     \
  {"pow", t_pow},                     \
  {"exp", t_exp},                     \
  {"log", t_log},                     \
  {"sqrt", t_sqrt},                   \
  {"abs", t_abs},                     \
  {"sign", t_sign},                   \
  {"relu", t_relu},                   \
  {"leaky_relu", t_leaky_relu},       \
  {"sigmoid", t_sigmoid},             \
  {"tanh", t_tanh},                   \
  {"softplus", t_softplus},           \
  {"sin", t_sin},                     \
  {"cos", t_cos},                     \
  {"clamp", t_clamp},                 \
  {"softmax", t_softmax},             \
  {"log_softmax", t_log_softmax},     \
  {"sum", t_sum},                     \
  {"mean", t_mean},                   \
  {"max", t_max},                     \
  {"index_select", t_index_select},   \
  {"matmul", t_matmul}

const luaL_Reg lgL_ops_methods[] = {
  MATH_FUNCS,
  {NULL, NULL}
};

const luaL_Reg lgL_ops_funcs[] = {
  MATH_FUNCS,
  {"linear", l_linear},
  {"bce_with_logits", l_bce_with_logits},
  {"mse", l_mse},
  {"l1", l_l1},
  {"cross_entropy", l_cross_entropy},
  {NULL, NULL}
};
