/*
** Arithmetic metamethods and the math, reduction, matmul and loss functions.
** Each is both a method (x:exp()) and a module function (lg.exp(x)).
** The functions here only check arguments and translate dims; all numerics
** are the core's.
*/
#include "luagan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define FLOAT_EXACT ((lua_Integer)1 << 24)   /* floats hold every integer up to this */

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

/* Both operands of a binary op; at least one must be a tensor.  Pushes the
** result slot first, so that the pointers are taken after the allocation
** (see luagan.h). */
static lg_tensor **operands(lua_State *L, const char *op, lg_tensor **a, lg_tensor **b,
                            lua_Number *num) {
  lg_tensor **r;
  *a = operand(L, 1, num);
  *b = operand(L, 2, num);
  if (*a == NULL && *b == NULL)
    luaL_error(L, "%s: at least one operand must be a tensor", op);
  lua_settop(L, 2);
  r = lgL_newslot(L);
  *a = lgL_totensor(L, 1);
  *b = lgL_totensor(L, 2);
  return r;
}

/*** x:add(y) -> Tensor
 * Elementwise x + y, where either operand may be a number and tensors
 * broadcast (numpy rules; mismatched shapes raise naming both).  The
 * operator x + y, 2 + x and lg.add(x, y) are the same function.
 * Differentiable.
 * Shapes: [N, C] + [C] -> [N, C].
 * @function Tensor:add
 * @usage local x = lg.ones(2, 3)
 * local y = x:add(lg.arange(3))   -- same as x + lg.arange(3)
 * local z = 1 + x
 */
static int t_add (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  r = operands(L, "add", &a, &b, &s);
  if (a && b) return lgL_settensor(L, r, lg_add(a, b));
  return lgL_settensor(L, r, lg_add_scalar(a ? a : b, (float)s));
}

/*** x:sub(y) -> Tensor
 * Elementwise x - y with broadcasting; either side may be a number (x - y,
 * 1 - x, lg.sub(x, y)).  Differentiable.
 * @function Tensor:sub
 * @usage local d = lg.ones(3):sub(0.5)   -- same as lg.ones(3) - 0.5
 */
static int t_sub (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  r = operands(L, "sub", &a, &b, &s);
  if (a && b) return lgL_settensor(L, r, lg_sub(a, b));
  if (a) return lgL_settensor(L, r, lg_add_scalar(a, -(float)s));
  return lgL_settensor(L, r, lg_rsub_scalar(b, (float)s));
}

/*** x:mul(y) -> Tensor
 * Elementwise product x * y with broadcasting; either side may be a number
 * (x * y, 2 * x, lg.mul(x, y)).  For the matrix product use x:matmul(y).
 * Differentiable.
 * @function Tensor:mul
 * @usage local y = lg.randn(4, 3):mul(lg.ones(1, 3) * 2)
 */
static int t_mul (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  r = operands(L, "mul", &a, &b, &s);
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

/*** x:div(y) -> Tensor
 * Elementwise x / y with broadcasting; either side may be a number (x / y,
 * 1 / x, lg.div(x, y)).  Dividing by a number rounds as a true division.
 * Differentiable.
 * @function Tensor:div
 * @usage local h = lg.ones(3):div(3)   -- same as lg.ones(3) / 3
 */
static int t_div (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  r = operands(L, "div", &a, &b, &s);
  if (a && b) return lgL_settensor(L, r, lg_div(a, b));
  if (a) return lgL_settensor(L, r, div_scalar(a, (float)s));
  return lgL_settensor(L, r, lg_rdiv_scalar(b, (float)s));
}

/*** x:neg() -> Tensor
 * Elementwise -x (also the unary operator -x and lg.neg(x)).  Differentiable.
 * @function Tensor:neg
 * @usage local y = -lg.ones(2)
 */
static int t_neg (lua_State *L) {
  lg_tensor *a = lgL_checktensor(L, 1);
  lg_tensor **r = lgL_newslot(L);
  a = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
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

/*** x:pow(p) -> Tensor
 * Elementwise x ^ p for a number p (also the operator x ^ p and lg.pow); s ^ x
 * with a positive number s is exp(x log s).  A tensor exponent raises (write
 * lg.exp(y * lg.log(x))).  Differentiable.
 * @function Tensor:pow
 * @usage local sq = lg.arange(4):pow(2)   -- 0, 1, 4, 9
 * local e = 2 ^ lg.arange(3)          -- 1, 2, 4
 */
/* x ^ p and x:pow(p) with a number p; s ^ x with a positive number s. */
static int t_pow (lua_State *L) {
  lua_Number s;
  lg_tensor *a, *b, **r;
  r = operands(L, "pow", &a, &b, &s);
  if (a && b)
    return luaL_error(L, "pow: the exponent must be a number, got a tensor "
                      "(for x ^ y use lg.exp(y * lg.log(x)))");
  if (b && !(s > 0))
    return luaL_error(L, "pow: number ^ tensor needs a positive base, got %f", s);
  if (a) return lgL_settensor(L, r, lg_pow(a, (float)s));
  return lgL_settensor(L, r, number_pow(b, s));
}

/* }====================================================== */

/* {====================================================== unary math */

/* The pointer is taken again after the allocation: see luagan.h. */
#define UNARY(name, fn)                                   \
  static int name (lua_State *L) {                        \
    lg_tensor *x = lgL_checktensor(L, 1);                 \
    lg_tensor **r = lgL_newslot(L);                       \
    x = lgL_checktensor(L, 1);                            \
    return lgL_settensor(L, r, fn(x));                    \
  }

/*** x:exp() -> Tensor
 * Elementwise e^x; also lg.exp(x).  Differentiable.
 * @function Tensor:exp
 * @usage local y = lg.zeros(3):exp()   -- 1, 1, 1
 */
UNARY(t_exp, lg_exp)
/*** x:log() -> Tensor
 * Elementwise natural logarithm (-inf at 0, nan below); also lg.log(x).
 * Differentiable.
 * @function Tensor:log
 * @usage local y = lg.ones(3):log()   -- 0, 0, 0
 */
UNARY(t_log, lg_log)
/*** x:sqrt() -> Tensor
 * Elementwise square root; also lg.sqrt(x).  Differentiable (the gradient is
 * infinite at 0: add an epsilon when x can be 0, as in a gradient penalty's
 * norm).
 * @function Tensor:sqrt
 * @usage local n = (lg.randn(8, 2):pow(2):sum(2) + 1e-12):sqrt()
 */
UNARY(t_sqrt, lg_sqrt)
/*** x:abs() -> Tensor
 * Elementwise |x|; also lg.abs(x).  Differentiable (gradient sign(x)).
 * @function Tensor:abs
 * @usage local a = lg.tensor{-1, 2}:abs()   -- 1, 2
 */
UNARY(t_abs, lg_abs)
/*** x:sign() -> Tensor
 * Elementwise -1, 0 or 1; also lg.sign(x).  Not differentiable: its gradient
 * is zero.
 * @function Tensor:sign
 * @usage local s = lg.tensor{-3, 0, 2}:sign()   -- -1, 0, 1
 */
UNARY(t_sign, lg_sign)
/*** x:relu() -> Tensor
 * Elementwise max(x, 0); also lg.relu(x).  Differentiable.
 * @function Tensor:relu
 * @usage local h = lg.randn(4, 8):relu()
 */
UNARY(t_relu, lg_relu)
/*** x:sigmoid() -> Tensor
 * Elementwise 1 / (1 + e^-x); also lg.sigmoid(x).  Differentiable.  For a
 * loss on logits use lg.bce_with_logits, which is stable.
 * @function Tensor:sigmoid
 * @usage local p = lg.zeros(2):sigmoid()   -- 0.5, 0.5
 */
UNARY(t_sigmoid, lg_sigmoid)
/*** x:tanh() -> Tensor
 * Elementwise hyperbolic tangent, the usual output of an image generator (in
 * [-1, 1]); also lg.tanh(x).  Differentiable.
 * @function Tensor:tanh
 * @usage local img = lg.randn(1, 3, 8, 8):tanh()
 */
UNARY(t_tanh, lg_tanh)
/*** x:softplus() -> Tensor
 * Elementwise log(1 + e^x), computed stably; also lg.softplus(x).  The
 * non-saturating GAN losses are softplus of the logits.  Differentiable.
 * @function Tensor:softplus
 * @usage local lossG = lg.randn(64, 1):neg():softplus():mean()
 */
UNARY(t_softplus, lg_softplus)
/*** x:sin() -> Tensor
 * Elementwise sine; also lg.sin(x).  Differentiable.
 * @function Tensor:sin
 * @usage local y = lg.arange(0, 6.28, 0.1):sin()
 */
UNARY(t_sin, lg_sin)
/*** x:cos() -> Tensor
 * Elementwise cosine; also lg.cos(x).  Differentiable.
 * @function Tensor:cos
 * @usage local y = lg.arange(0, 6.28, 0.1):cos()
 */
UNARY(t_cos, lg_cos)

/*** x:leaky_relu([slope]) -> Tensor
 * Elementwise x for x > 0, slope * x otherwise; slope defaults to 0.01 (DCGAN
 * discriminators use 0.2).  Also lg.leaky_relu(x, slope).  Differentiable.
 * @function Tensor:leaky_relu
 * @usage local h = lg.randn(4, 8):leaky_relu(0.2)
 */
static int t_leaky_relu (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  float slope = lua_isnoneornil(L, 2) ? 0.01f : lgL_checkfloat(L, 2);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_leaky_relu(x, slope));
}

/*** x:clamp(lo [, hi]) -> Tensor
 * Elementwise min(max(x, lo), hi); nil leaves a side unbounded
 * (x:clamp(nil, 1)), and at least one bound must be given.  Also
 * lg.clamp(x, lo, hi).  Differentiable (zero gradient where clamped).  For
 * WGAN weight clipping of parameters use lg.clip_.
 * @function Tensor:clamp
 * @usage local p = lg.randn(10):clamp(-1, 1)
 * local q = lg.randn(10):clamp(0)
 */
/* x:clamp(lo, hi); nil leaves that side unbounded. */
static int t_clamp (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  float lo = lua_isnoneornil(L, 2) ? -INFINITY : lgL_checkfloat(L, 2);
  float hi = lua_isnoneornil(L, 3) ? INFINITY : lgL_checkfloat(L, 3);
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
    return luaL_error(L, "clamp: give at least one of min and max");
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_clamp(x, lo, hi));
}

/*** x:softmax([d]) -> Tensor
 * Softmax along dim d (1-based; default the last): e^x / sum e^x, computed
 * with the max subtracted.  Raises for a 0-dim tensor.  Also lg.softmax.
 * Differentiable.
 * Shapes: [N, C] -> [N, C], rows summing to 1.
 * @function Tensor:softmax
 * @usage local p = lg.randn(4, 10):softmax()
 */
/* x:softmax(d), x:log_softmax(d); d defaults to the last dim. */
static int t_softmax (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  int d;
  if (x->ndim == 0)   /* here: the core would name dim -1 */
    return luaL_error(L, "softmax: a 0-dim tensor has no dim to take it over (view it as [1])");
  d = lgL_optdim(L, 2, x, "softmax", x->ndim - 1);
  lg_tensor **r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_softmax(x, d));
}

/*** x:log_softmax([d]) -> Tensor
 * log(softmax(x)) along dim d (1-based; default the last), computed stably.
 * Also lg.log_softmax.  Differentiable.
 * Shapes: [N, C] -> [N, C].
 * @function Tensor:log_softmax
 * @usage local logp = lg.randn(4, 10):log_softmax(2)
 */
static int t_log_softmax (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  int d;
  if (x->ndim == 0)   /* here: the core would name dim -1 */
    return luaL_error(L, "log_softmax: a 0-dim tensor has no dim to take it over (view it as [1])");
  d = lgL_optdim(L, 2, x, "log_softmax", x->ndim - 1);
  lg_tensor **r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
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


typedef lg_tensor *(*allfn)(lg_tensor *);
typedef lg_tensor *(*dimfn)(lg_tensor *, int, bool);

/* x:sum(), x:sum(d), x:sum(d, keepdim), x:sum(nil, true); same for mean. */
static int reduce(lua_State *L, const char *op, allfn all, dimfn bydim) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  int keep = optkeepdim(L, 3, op), d;
  d = lua_isnoneornil(L, 2) ? -1 : lgL_checkdim(L, 2, x, op);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  if (d < 0) return lgL_settensor(L, r, keep ? lgL_keep_all(all(x), x->ndim) : all(x));
  return lgL_settensor(L, r, bydim(x, d, keep));
}

/*** x:sum([d] [, keepdim]) -> Tensor
 * The sum of all elements (a 0-dim tensor), or along dim d (1-based; negative
 * counts from the end), which is removed unless keepdim is true;
 * x:sum(nil, true) keeps every dim at size 1.  Also lg.sum.  Differentiable.
 * Shapes: [N, C] -> sum(2) -> [N]; sum(2, true) -> [N, 1].
 * @function Tensor:sum
 * @usage local x = lg.ones(4, 3)
 * print(x:sum():item(), x:sum(1).shape[1])   --> 12.0  3
 */
static int t_sum (lua_State *L) { return reduce(L, "sum", lg_sum, lg_sum_dim); }
/*** x:mean([d] [, keepdim]) -> Tensor
 * The mean of all elements (a 0-dim tensor) or along dim d (1-based), with
 * keepdim as in x:sum.  Also lg.mean.  Differentiable.
 * Shapes: [N, C] -> mean(1) -> [C].
 * @function Tensor:mean
 * @usage local mu = lg.randn(100, 2):mean(1)   -- per-column means
 */
static int t_mean (lua_State *L) { return reduce(L, "mean", lg_mean, lg_mean_dim); }

/*** x:max([d] [, keepdim]) -> Tensor [, Tensor]
 * The largest element (a 0-dim tensor), or along dim d (1-based) the max
 * values and their 1-based positions (a float tensor, not differentiable),
 * the dim removed unless keepdim.  Raises for a dim of size 0.  Also lg.max.
 * Differentiable in the values.
 * Shapes: [N, C] -> max(2) -> values [N], indices [N].
 * @function Tensor:max
 * @usage local logits = lg.tensor{{0.1, 2, 0.3}, {5, 1, 0}}
 * local v, i = logits:max(2)   -- i = 2, 1 (the predicted classes)
 */
/* x:max() -> 0-dim max; x:max(d, keepdim) -> values, indices (1-based). */
static int t_max (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **v, **ix, *idx = NULL, *val, *one;
  int keep = optkeepdim(L, 3, "max"), d;
  char buf[160];
  if (lua_isnoneornil(L, 2)) {
    v = lgL_newslot(L);
    x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
    return lgL_settensor(L, v, keep ? lgL_keep_all(lg_max(x), x->ndim) : lg_max(x));
  }
  d = lgL_checkdim(L, 2, x, "max");
  if (x->shape[d] == 0)   /* here, not in the core: the message counts dims from 1 */
    return luaL_error(L, "max: cannot take the max over dim %d of size 0 in shape %s", d + 1,
                      lg_shape_str(x, buf, sizeof buf));
  v = lgL_newslot(L);
  ix = lgL_newslot(L);
  x = lgL_checktensor(L, 1);
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
** Lua list turned into a new tensor that a userdata pushed on the stack
** owns.  Returns the stack index of the tensor; the caller takes the pointer
** after its last allocation (see luagan.h). */
static int integers(lua_State *L, int arg, const char *op, const char *what) {
  lg_tensor **r;
  int64_t n;
  float *d;
  if (lgL_totensor(L, arg) != NULL) return arg;
  if (lua_type(L, arg) != LUA_TTABLE) return luaL_typeerror(L, arg, "tensor or table of integers");
  n = (int64_t)lua_rawlen(L, arg);
  r = lgL_newslot(L);
  lgL_settensor(L, r, lg_empty(1, &n));
  d = lg_data(*r);   /* our own tensor: no Lua code can free it */
  for (int64_t i = 0; i < n; i++) {
    int isint;
    lua_Integer v;
    lua_rawgeti(L, arg, (lua_Integer)i + 1);
    v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : (isint = 0);
    if (!isint)
      luaL_error(L, "%s: %s at position %I must be an integer, got %s", op, what,
                 (lua_Integer)i + 1, lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1)
                                                                    : luaL_typename(L, -1));
    if (v < -FLOAT_EXACT || v > FLOAT_EXACT)   /* a float would round it silently */
      luaL_error(L, "%s: %s %I at position %I is beyond 2^24, where floats lose integers",
                 op, what, v, (lua_Integer)i + 1);
    d[i] = (float)v;
    lua_pop(L, 1);
  }
  return lua_gettop(L);
}

/*** x:index_select(d, idx) -> Tensor
 * The slices of x along dim d at the 1-based positions idx (a 1-D tensor or a
 * Lua list of integers, repeats allowed), e.g. a minibatch of rows.  Every
 * index is checked: one outside 1..size raises naming its position.  Also
 * lg.index_select(x, d, idx).  Differentiable in x.
 * Shapes: [N, C], idx [k], d = 1 -> [k, C].
 * @function Tensor:index_select
 * @usage local data = lg.randn(100, 2)
 * local batch = data:index_select(1, lg.randperm(100):narrow(1, 1, 16))
 */
/* x:index_select(d, idx): the slices of x along d at the 1-based positions
** idx (a tensor or a list), e.g. a minibatch of rows.  Every index is
** checked here, so that messages count positions and dims from 1. */
static int t_index_select (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *idx, **c, **zero_based, **r;
  int d = lgL_checkdim(L, 2, x, "index_select"), ii;
  char buf[160];
  lua_settop(L, 3);
  ii = integers(L, 3, "index_select", "index");
  c = lgL_newslot(L);
  zero_based = lgL_newslot(L);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocations: see luagan.h */
  idx = lgL_checktensor(L, ii);
  if (idx->ndim != 1)
    return luaL_error(L, "index_select: index must be 1-D, got shape %s",
                      lg_shape_str(idx, buf, sizeof buf));
  lgL_puttensor(L, c, lg_contiguous(idx));
  const float *v = lg_data(*c);
  for (int64_t i = 0; i < idx->numel; i++) {
    if (!(v[i] >= 1 && v[i] <= (float)x->shape[d] && v[i] == floorf(v[i]))) {
      char num[32];
      snprintf(num, sizeof num, "%.9g", isnan(v[i]) ? (double)NAN : (double)v[i]);
      return luaL_error(L, "index_select: index %s out of range 1..%I for dim %d of shape %s "
                        "(at position %I; indices are whole numbers)", num,
                        (lua_Integer)x->shape[d], d + 1, lg_shape_str(x, buf, sizeof buf),
                        (lua_Integer)i + 1);
    }
  }
  lgL_puttensor(L, zero_based, lg_add_scalar(*c, -1.0f));
  return lgL_settensor(L, r, lg_index_select(x, d, *zero_based));
}

/* }====================================================== */

/* {====================================================== matmul, linear */

/*** x:matmul(y) -> Tensor
 * Matrix product: [m, k] x [k, n], batched [b, m, k] x [b, k, n] and
 * [b, m, k] x [k, n]; 1-D operands act as in numpy (a vector on the left is a
 * row, on the right a column, its dim then removed).  Mismatched inner sizes
 * raise naming both shapes.  Also lg.matmul(x, y).  Differentiable.
 * Shapes: [M, K] x [K, N] -> [M, N].
 * @function Tensor:matmul
 * @usage local z = lg.randn(4, 3):matmul(lg.randn(3, 5))   -- [4, 5]
 */
static int t_matmul (lua_State *L) {
  lg_tensor *a = lgL_checktensor(L, 1), *b = lgL_checktensor(L, 2);
  lg_tensor **r = lgL_newslot(L);
  a = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  b = lgL_checktensor(L, 2);
  return lgL_settensor(L, r, lg_matmul(a, b));
}

/*** lg.linear(x, w [, b]) -> Tensor
 * The affine map x w^T + b with PyTorch's weight layout [out, in]; b ([out])
 * is optional.  Differentiable.
 * Shapes: x [N, in] (or [in]), w [out, in], b [out] -> [N, out] (or [out]).
 * @function lg.linear
 * @usage local y = lg.linear(lg.randn(8, 4), lg.randn(2, 4), lg.zeros(2))   -- [8, 2]
 */
/* lg.linear(x, w[, b]): x w^T + b, weights [out,in] as in PyTorch. */
static int l_linear (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *w = lgL_checktensor(L, 2);
  lg_tensor *b = lgL_opttensor(L, 3), **r;
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  w = lgL_checktensor(L, 2);
  b = lgL_opttensor(L, 3);
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
  lua_settop(L, 2);
  r = lgL_newslot(L);
  a = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  b = lgL_totensor(L, 2);
  if (b) return lgL_settensor(L, r, f(a, b));
  if ((full = lg_full(a->ndim, a->shape, v)) == NULL) return lgL_coreerror(L);
  out = f(a, full);
  lg_release(full);
  return lgL_settensor(L, r, out);
}

/*** lg.bce_with_logits(logits, target) -> Tensor
 * Binary cross-entropy of sigmoid(logits) against target, averaged over all
 * elements (a 0-dim tensor): mean of -[t log s(x) + (1 - t) log(1 - s(x))],
 * computed stably from the logits.  target is a tensor of logits' shape or a
 * number standing for a full one (1 for "real", 0 for "fake"): the
 * discriminator loss of Goodfellow et al. 2014, eq. 1.  Differentiable.
 * Shapes: logits [N, 1], target [N, 1] or a number -> [] (0-dim).
 * @function lg.bce_with_logits
 * @usage local d_real, d_fake = lg.randn(64, 1), lg.randn(64, 1)
 * local lossD = lg.bce_with_logits(d_real, 1) + lg.bce_with_logits(d_fake, 0)
 */
static int l_bce_with_logits (lua_State *L) { return pair_loss(L, lg_bce_with_logits); }
/*** lg.mse(a, b) -> Tensor
 * Mean squared error mean((a - b)^2) over all elements, a 0-dim tensor; b is
 * a tensor of a's shape or a number (the least-squares GAN of Mao et al.
 * 2017 uses targets 1 and 0).  Differentiable.
 * Shapes: a [...], b [...] or a number -> [].
 * @function lg.mse
 * @usage local loss = lg.mse(lg.randn(64, 1), 1)
 */
static int l_mse (lua_State *L) { return pair_loss(L, lg_mse); }
/*** lg.l1(a, b) -> Tensor
 * Mean absolute error mean(|a - b|) over all elements, a 0-dim tensor; b is a
 * tensor of a's shape or a number.  Differentiable.
 * Shapes: a [...], b [...] or a number -> [].
 * @function lg.l1
 * @usage local loss = lg.l1(lg.randn(4, 3), lg.zeros(4, 3))
 */
static int l_l1 (lua_State *L) { return pair_loss(L, lg_l1); }

/*** lg.cross_entropy(logits, labels) -> Tensor
 * Softmax cross-entropy averaged over the batch: mean of -log softmax(logits)
 * at each row's label.  Labels are class numbers 1..C (1-based), as a tensor
 * [N] or a Lua list; one out of range raises.  Differentiable in logits.
 * Shapes: logits [N, C], labels [N] -> [].
 * @function lg.cross_entropy
 * @usage local loss = lg.cross_entropy(lg.randn(3, 10), {1, 10, 4})
 */
/* lg.cross_entropy(logits [N,C], labels): labels are class numbers 1..C,
** as a tensor [N] or a Lua list; the core checks their range. */
static int l_cross_entropy (lua_State *L) {
  lg_tensor *x, *labels, **r;
  int li;
  lgL_checktensor(L, 1);
  lua_settop(L, 2);
  li = integers(L, 2, "cross_entropy", "label");
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocations: see luagan.h */
  labels = lgL_checktensor(L, li);
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
