/*
** Comparisons and discrete ops from Lua: gt ge lt le eq ne, where,
** masked_fill, masked_select, nonzero, argmax, argmin, min, floor, ceil,
** round, trunc, randint, one_hot, eye, equal; and the Tensor __eq that
** refuses a == b between two tensors.  Numerics are the core's
** (core/ops_compare.c); this file checks arguments, turns numbers into
** 0-dim tensors and converts positions to 1-based.
**
** Tensor pointers are taken after the last allocation of each function
** (result slots, 0-dim operands): an allocation may run finalizers, and a
** finalizer may free a tensor the caller passed.
*/
#include "luagan.h"

#include <float.h>
#include <math.h>

#define FLOAT_EXACT ((lua_Integer)1 << 24)   /* floats hold every integer up to this */

/* {====================================================== helpers */

/* The operand at arg as a stack index holding a tensor: arg itself, or a
** new 0-dim tensor made from a number.  A number compared with a tensor is
** rounded to float32 first (beyond the float range: +-inf), as torch does
** with a Python number; a fill value must fit a float (lgL_checkfloat). */
static int operand(lua_State *L, int arg, int fill) {
  lua_Number n;
  float v;
  if (lgL_totensor(L, arg) != NULL) return arg;
  if (lua_type(L, arg) != LUA_TNUMBER) return luaL_typeerror(L, arg, "tensor or number");
  if (fill) {
    v = lgL_checkfloat(L, arg);
  } else {
    n = lua_tonumber(L, arg);
    v = isfinite(n) && fabs(n) > FLT_MAX ? (n > 0 ? INFINITY : -INFINITY) : (float)n;
  }
  lg_tensor **s = lgL_newslot(L);
  lgL_settensor(L, s, lg_scalar(v));
  return lua_gettop(L);
}

static int optkeepdim(lua_State *L, int arg, const char *op) {
  if (lua_isnoneornil(L, arg)) return 0;
  if (lua_type(L, arg) != LUA_TBOOLEAN)
    return luaL_error(L, "%s: keepdim must be a boolean, got %s", op, luaL_typename(L, arg));
  return lua_toboolean(L, arg);
}


/* An integer argument in lo..hi, with a message naming it. */
static lua_Integer checkint(lua_State *L, int arg, const char *op, const char *what,
                            lua_Integer lo, lua_Integer hi) {
  int isint = 0;
  lua_Integer v = 0;
  if (lua_type(L, arg) == LUA_TNUMBER) v = lua_tointegerx(L, arg, &isint);
  if (!isint) {
    if (lua_type(L, arg) == LUA_TNUMBER)
      return luaL_error(L, "%s: %s must be an integer, got %f", op, what, lua_tonumber(L, arg));
    return luaL_error(L, "%s: %s must be an integer, got %s", op, what, luaL_typename(L, arg));
  }
  if (v < lo || v > hi)
    return luaL_error(L, "%s: %s %I is out of range (%I..%I)", op, what, v, lo, hi);
  return v;
}

/* }====================================================== */

/* {====================================================== comparisons */

typedef lg_tensor *(*pairfn)(lg_tensor *, lg_tensor *);

/* a:gt(b), lg.gt(a, b), ...: either operand may be a number. */
static int compare(lua_State *L, const char *op, pairfn f) {
  int ia, ib;
  lg_tensor **r;
  lua_settop(L, 2);
  if (lgL_totensor(L, 1) == NULL && lgL_totensor(L, 2) == NULL) {
    if (lua_type(L, 1) != LUA_TNUMBER) return luaL_typeerror(L, 1, "tensor");
    if (lua_type(L, 2) != LUA_TNUMBER) return luaL_typeerror(L, 2, "tensor");
    return luaL_error(L, "%s: at least one operand must be a tensor", op);
  }
  ia = operand(L, 1, 0);
  ib = operand(L, 2, 0);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, f(lgL_checktensor(L, ia), lgL_checktensor(L, ib)));
}

/*** Tensor:gt(b) -> Tensor
 * a > b elementwise as 0/1 floats (also lg.gt(a, b)), with broadcasting;
 * either operand may be a number, rounded to float32 first as torch does.
 * NaN compares false (ne: true).  The result never requires grad.
 * Shapes: a and b broadcast -> the broadcast shape.
 * @function Tensor:gt
 * @usage local x = lg.randn(4, 3)
 * local positive = x:gt(0)   -- 1 where x > 0
 */
static int t_gt (lua_State *L) { return compare(L, "gt", lg_gt); }

/*** Tensor:ge(b) -> Tensor
 * a >= b elementwise as 0/1 floats (also lg.ge(a, b)); as Tensor:gt.
 * Shapes: a and b broadcast -> the broadcast shape.
 * @function Tensor:ge
 * @usage local x, y = lg.randn(4, 3), lg.zeros(1, 3)
 * local m = x:ge(y)
 */
static int t_ge (lua_State *L) { return compare(L, "ge", lg_ge); }

/*** Tensor:lt(b) -> Tensor
 * a < b elementwise as 0/1 floats (also lg.lt(a, b)); as Tensor:gt.
 * Shapes: a and b broadcast -> the broadcast shape.
 * @function Tensor:lt
 * @usage local x = lg.randn(8)
 * local inside = lg.lt(x:abs(), 1)
 */
static int t_lt (lua_State *L) { return compare(L, "lt", lg_lt); }

/*** Tensor:le(b) -> Tensor
 * a <= b elementwise as 0/1 floats (also lg.le(a, b)); as Tensor:gt.
 * Shapes: a and b broadcast -> the broadcast shape.
 * @function Tensor:le
 * @usage local x = lg.rand(8)
 * local m = x:le(0.5)
 */
static int t_le (lua_State *L) { return compare(L, "le", lg_le); }

/*** Tensor:eq(b) -> Tensor
 * a == b elementwise as 0/1 floats (also lg.eq(a, b)); as Tensor:gt.
 * For one boolean use lg.equal; the == operator on two tensors raises.
 * Shapes: a and b broadcast -> the broadcast shape.
 * @function Tensor:eq
 * @usage local logits, labels = lg.randn(16, 10), lg.randint(1, 11, {16})
 * local accuracy = logits:argmax(2):eq(labels):mean()
 */
static int t_eq (lua_State *L) { return compare(L, "eq", lg_eq); }

/*** Tensor:ne(b) -> Tensor
 * a ~= b elementwise as 0/1 floats (also lg.ne(a, b)); true where either is NaN.
 * Shapes: a and b broadcast -> the broadcast shape.
 * @function Tensor:ne
 * @usage local a, b = lg.tensor{1, 2, 3}, lg.tensor{1, 0, 3}
 * local changed = a:ne(b):sum():item()   -- 1
 */
static int t_ne (lua_State *L) { return compare(L, "ne", lg_ne); }

/*** lg.equal(a, b) -> boolean
 * True when a and b have the same shape and equal elements (torch.equal):
 * NaN equals nothing, -0 equals 0.  Also a:equal(b).
 * @function lg.equal
 * @usage local x = lg.randn(3)
 * assert(lg.equal(x:clone(), x) and x:equal(x))
 */
static int t_equal (lua_State *L) {
  int rc = lg_equal(lgL_checktensor(L, 1), lgL_checktensor(L, 2));
  if (rc < 0) return lgL_coreerror(L);
  lua_pushboolean(L, rc);
  return 1;
}

/* __eq, which Lua calls for two different userdata (never for x == x, a
** tensor and nil, table keys or rawequal).  Without it, a == b on tensors
** is silently an identity test, and code written with PyTorch or numpy in
** mind (if a == b then ...) would take the wrong branch without a word; an
** elementwise answer could not be a Lua boolean either (Lua truncates __eq's
** result to one).  So it raises, naming the three things one can mean. */
static int t_eq_meta (lua_State *L) {
  if (lgL_istensor_slow(L, 1) && lgL_istensor_slow(L, 2))
    return luaL_error(L, "Tensor == Tensor is not elementwise: use a:eq(b) (0/1 tensor) or "
                      "lg.equal(a, b) (boolean); rawequal(a, b) tests identity");
  lua_pushboolean(L, 0);   /* a tensor and some other userdata */
  return 1;
}

/* __lt and __le, which Lua calls for a < b and a <= b (and > and >=, with
** the operands swapped) when either is a tensor.  Lua truncates the result
** to a boolean, so an elementwise answer is impossible; without them the
** message is Lua's generic "attempt to compare". */
static int t_lt_meta (lua_State *L) {
  return luaL_error(L, "a < b and a > b on tensors are not elementwise: use a:lt(b) or a:gt(b) "
                    "(0/1 tensors), or compare numbers (x:item())");
}
static int t_le_meta (lua_State *L) {
  return luaL_error(L, "a <= b and a >= b on tensors are not elementwise: use a:le(b) or a:ge(b) "
                    "(0/1 tensors), or compare numbers (x:item())");
}

/* }====================================================== */

/* {====================================================== selection */

/*** lg.where(c, a, b) -> Tensor
 * a where c is nonzero (NaN counts as nonzero), b elsewhere; the three
 * broadcast, and a and b may be numbers.  Differentiable in a and b: each
 * gets the gradient where it was chosen.
 * Shapes: c, a and b broadcast -> the broadcast shape.
 * @function lg.where
 * @usage local x = lg.randn(4, 3)
 * local y = lg.where(x:gt(0), x, 0.2 * x)   -- a leaky ReLU
 */
static int l_where (lua_State *L) {
  int ia, ib;
  lg_tensor **r;
  lgL_checktensor(L, 1);
  lua_settop(L, 3);
  ia = operand(L, 2, 1);
  ib = operand(L, 3, 1);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_where(lgL_checktensor(L, 1), lgL_checktensor(L, ia),
                                      lgL_checktensor(L, ib)));
}

/*** Tensor:masked_fill(mask, v) -> Tensor
 * x with v where mask is nonzero: lg.where(mask, v, x), so mask and x
 * broadcast.  v is a number or a 0-dim tensor.  Differentiable in x (zero
 * where filled) and in a tensor v (the sum over the filled places).
 * Also lg.masked_fill(x, mask, v).
 * Shapes: x and mask broadcast -> the broadcast shape.
 * @function Tensor:masked_fill
 * @usage local logits, pad = lg.randn(2, 5), lg.tensor{0, 0, 0, 1, 1}
 * local scores = logits:masked_fill(pad:eq(1), -math.huge)
 */
static int t_masked_fill (lua_State *L) {
  int iv;
  lg_tensor **r, *v;
  char buf[128];
  lgL_checktensor(L, 1);
  lgL_checktensor(L, 2);
  lua_settop(L, 3);
  if ((v = lgL_totensor(L, 3)) != NULL && v->ndim != 0)
    return luaL_error(L, "masked_fill: the value must be a number or a 0-dim tensor, got "
                      "shape %s", lg_shape_str(v, buf, sizeof buf));
  iv = operand(L, 3, 1);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_where(lgL_checktensor(L, 2), lgL_checktensor(L, iv),
                                      lgL_checktensor(L, 1)));
}

/*** Tensor:masked_select(mask) -> Tensor
 * The elements of x where mask is nonzero, in row-major order, as a 1-D
 * tensor (x and mask broadcast).  Differentiable in x.
 * Also lg.masked_select(x, mask).
 * Shapes: x and mask broadcast -> [k], k the number of nonzero mask entries.
 * @function Tensor:masked_select
 * @usage local x = lg.randn(10)
 * local pos = x:masked_select(x:gt(0))
 */
static int t_masked_select (lua_State *L) {
  lg_tensor **r;
  lgL_checktensor(L, 1);
  lgL_checktensor(L, 2);
  lua_settop(L, 2);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_masked_select(lgL_checktensor(L, 1), lgL_checktensor(L, 2)));
}

/*** Tensor:nonzero() -> Tensor
 * [k, ndim]: the 1-based positions of the k nonzero elements (NaN
 * included), one row each in row-major order; PyTorch's nonzero plus one.
 * Also lg.nonzero(x).
 * Shapes: x [...] -> [k, x.ndim].
 * @function Tensor:nonzero
 * @usage local mask = lg.tensor{{0, 1}, {1, 0}}
 * local where_ones = mask:nonzero()   -- {{1, 2}, {2, 1}}
 */
static int t_nonzero (lua_State *L) {
  lg_tensor **r;
  lgL_checktensor(L, 1);
  lua_settop(L, 1);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lgL_one_based(lg_nonzero(lgL_checktensor(L, 1))));
}

/* }====================================================== */

/* {====================================================== argmax, argmin, min */

/* The checks the core makes on a reduced dim, here so that the message
** counts dims from 1. */
static void check_reduced(lua_State *L, const lg_tensor *x, int d, const char *op) {
  char buf[128];
  if (x->shape[d] == 0)
    luaL_error(L, "%s: cannot take the %s over dim %d of size 0 in shape %s", op, op, d + 1,
               lg_shape_str(x, buf, sizeof buf));
  if (x->shape[d] > FLOAT_EXACT)
    luaL_error(L, "%s: dim %d of shape %s is longer than 2^24, beyond which float indices "
               "are not exact", op, d + 1, lg_shape_str(x, buf, sizeof buf));
}

/* x seen as one flat dim, without a graph. */
static lg_tensor *flat(lg_tensor *x) {
  int64_t n = x->numel;
  lg_tensor *d = lg_detach(x), *f = d ? lg_reshape(d, 1, &n) : NULL;
  lg_release(d);
  return f;
}

typedef lg_tensor *(*argfn)(lg_tensor *, int, bool);

/* x:argmax(), x:argmax(d), x:argmax(d, keepdim), x:argmax(nil, true):
** 1-based positions as floats; without d over the flattened tensor. */
/*** Tensor:argmax([d] [, keepdim]) -> Tensor
 * 1-based positions (floats) of the largest elements along dim d, or over
 * the flattened tensor (a 0-dim result) without d.  Ties give the first
 * position; NaN counts as the largest, as in torch.  No gradient.
 * Also lg.argmax(x [, d] [, keepdim]).
 * Shapes: [N, C] -> argmax(2) -> [N]; argmax(2, true) -> [N, 1].
 * @function Tensor:argmax
 * @usage local logits = lg.randn(16, 10)
 * local predicted = logits:argmax(2)   -- [16], classes 1..10
 */
static int arg_extreme(lua_State *L, const char *op, argfn f) {
  lg_tensor *x = lgL_checktensor(L, 1), **r, *fl, *out;
  int keep = optkeepdim(L, 3, op), d = -1;
  char buf[128];
  if (!lua_isnoneornil(L, 2)) {
    d = lgL_checkdim(L, 2, x, op);
    check_reduced(L, x, d, op);
  } else if (x->numel == 0) {
    return luaL_error(L, "%s: cannot take the %s of an empty tensor of shape %s", op, op,
                      lg_shape_str(x, buf, sizeof buf));
  } else if (x->numel > FLOAT_EXACT) {
    return luaL_error(L, "%s: a tensor of %I elements is longer than 2^24, beyond which float "
                      "indices are not exact", op, (lua_Integer)x->numel);
  }
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);
  if (d >= 0) return lgL_settensor(L, r, lgL_one_based(f(x, d, keep)));
  fl = flat(x);
  out = fl ? f(fl, 0, false) : NULL;
  lg_release(fl);
  out = lgL_one_based(out);
  return lgL_settensor(L, r, keep ? lgL_keep_all(out, x->ndim) : out);
}

static int t_argmax (lua_State *L) { return arg_extreme(L, "argmax", lg_argmax); }

/*** Tensor:argmin([d] [, keepdim]) -> Tensor
 * 1-based positions of the smallest elements; as Tensor:argmax (NaN counts
 * as the smallest).
 * Also lg.argmin(x [, d] [, keepdim]).
 * Shapes: [N, C] -> argmin(2) -> [N].
 * @function Tensor:argmin
 * @usage local dist = lg.rand(5, 8)
 * local nearest = dist:argmin(2)
 */
static int t_argmin (lua_State *L) { return arg_extreme(L, "argmin", lg_argmin); }

/*** Tensor:min([d] [, keepdim]) -> Tensor [, Tensor]
 * x:min() is the smallest element (0-dim); x:min(d) returns the values and
 * 1-based indices along d, as x:max(d).  NaN propagates; ties give the
 * first index, which takes the whole gradient; x:min() splits it evenly
 * among tied elements (as x:max(), and torch).
 * Also lg.min(x [, d] [, keepdim]).
 * Shapes: [N, C] -> min(2) -> values [N], indices [N].
 * @function Tensor:min
 * @usage local dist = lg.rand(5, 8)
 * local vals, idx = dist:min(2)
 */
static int t_min (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **v, **ix, *idx = NULL, *val;
  int keep = optkeepdim(L, 3, "min"), d;
  lua_settop(L, 3);
  if (lua_isnoneornil(L, 2)) {
    v = lgL_newslot(L);
    x = lgL_checktensor(L, 1);
    return lgL_settensor(L, v, keep ? lgL_keep_all(lg_min(x), x->ndim) : lg_min(x));
  }
  d = lgL_checkdim(L, 2, x, "min");
  check_reduced(L, x, d, "min");
  v = lgL_newslot(L);
  ix = lgL_newslot(L);
  x = lgL_checktensor(L, 1);
  val = lg_min_dim(x, d, keep, &idx);
  if (val == NULL) return lgL_coreerror(L);
  *v = val;
  return lgL_settensor(L, ix, lgL_one_based(idx)) + 1;
}

/* }====================================================== */

/* {====================================================== rounding */

#define UNARY(name, fn)                                   \
  static int name (lua_State *L) {                        \
    lg_tensor **r;                                        \
    lgL_checktensor(L, 1);                                \
    lua_settop(L, 1);                                     \
    r = lgL_newslot(L);                                   \
    return lgL_settensor(L, r, fn(lgL_checktensor(L, 1))); \
  }

/*** Tensor:isnan() -> Tensor
 * 1 where the element is NaN, else 0; no graph.  Also lg.isnan(x).
 * Shapes: any -> the same.
 * @function Tensor:isnan
 * @usage if loss:isnan():item() == 1 then error("the loss diverged") end
 */
UNARY(t_isnan, lg_isnan)

/*** Tensor:isinf() -> Tensor
 * 1 where the element is +inf or -inf, else 0; no graph.  Also lg.isinf(x).
 * Shapes: any -> the same.
 * @function Tensor:isinf
 * @usage local n = x:isinf():sum():item()
 */
UNARY(t_isinf, lg_isinf)

/*** Tensor:isfinite() -> Tensor
 * 1 where the element is neither NaN nor infinite, else 0; no graph.  Also
 * lg.isfinite(x).
 * Shapes: any -> the same.
 * @function Tensor:isfinite
 * @usage assert(lg.equal(g:isfinite(), lg.ones_like(g)), "a gradient is not finite")
 */
UNARY(t_isfinite, lg_isfinite)

/*** Tensor:floor() -> Tensor
 * Elementwise floor.  Like torch, the result stays in the graph with a
 * zero gradient.
 * Also lg.floor(x).
 * Shapes: any -> the same.
 * @function Tensor:floor
 * @usage local x = lg.rand(6)
 * local bin = (x * 10):floor()
 */
UNARY(t_floor, lg_floor)

/*** Tensor:ceil() -> Tensor
 * Elementwise ceiling; zero gradient, as Tensor:floor.
 * Also lg.ceil(x).
 * Shapes: any -> the same.
 * @function Tensor:ceil
 * @usage local x = lg.arange(5)
 * local n = (x / 2):ceil()   -- 0, 1, 1, 2, 2
 */
UNARY(t_ceil, lg_ceil)

/*** Tensor:round() -> Tensor
 * Elementwise rounding to the nearest integer, halves to even (torch's
 * round: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2); zero gradient.
 * Also lg.round(x).
 * Shapes: any -> the same.
 * @function Tensor:round
 * @usage local x = lg.randn(4):requires_grad_()
 * local q = x + (x:round() - x):detach()   -- straight-through
 */
UNARY(t_round, lg_round)

/*** Tensor:trunc() -> Tensor
 * Elementwise rounding toward zero; zero gradient.
 * Also lg.trunc(x).
 * Shapes: any -> the same.
 * @function Tensor:trunc
 * @usage local x = lg.tensor{-1.5, 2.7}
 * local whole = x:trunc()   -- -1, 2
 */
UNARY(t_trunc, lg_trunc)

/* }====================================================== */

/* {====================================================== creation */

/*** lg.randint([low,] high, shape) -> Tensor
 * Uniform integers (as floats) in [low, high): PyTorch's half-open range,
 * not Torch7's inclusive one; low defaults to 0.  Drawn from the generator
 * that lg.manual_seed seeds.  shape is a table or one size; the bounds
 * must lie within +-2^24, where floats hold every integer.
 * Shapes: -> shape.
 * @function lg.randint
 * @usage local labels = lg.randint(1, 11, {64})   -- class numbers 1..10
 */
static int l_randint (lua_State *L) {
  int64_t shape[LG_MAXDIM];
  int top = lua_gettop(L), nd;
  lua_Integer lo = 0, hi;
  lg_tensor **r;
  if (top < 2 || top > 3)
    return luaL_error(L, "randint: expected (high, shape) or (low, high, shape), got %d "
                      "arguments (give the shape as a table)", top);
  if (top == 3) lo = checkint(L, 1, "randint", "low", -FLOAT_EXACT, FLOAT_EXACT);
  hi = checkint(L, top - 1, "randint", "high", -FLOAT_EXACT, FLOAT_EXACT);
  nd = lgL_checkshape(L, top, shape, "randint", 0);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_randint(lo, hi, nd, shape));
}

/*** lg.eye(n [, m]) -> Tensor
 * The n x m identity matrix (m defaults to n).
 * Shapes: -> [n, m].
 * @function lg.eye
 * @usage local I = lg.eye(3)
 */
static int l_eye (lua_State *L) {
  lua_Integer n = checkint(L, 1, "eye", "n", 0, (lua_Integer)1 << 31), m = n;
  lg_tensor **r;
  if (!lua_isnoneornil(L, 2)) m = checkint(L, 2, "eye", "m", 0, (lua_Integer)1 << 31);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_eye(n, m));
}

/*** lg.one_hot(labels [, num_classes]) -> Tensor
 * Class numbers 1..C (a tensor of any shape, or a list) to 0/1 rows:
 * labels' shape + [C].  Without num_classes, C is the largest label.  A
 * label that is not an integer in 1..C (NaN included) is an error.
 * Shapes: labels [...] -> [..., C].
 * @function lg.one_hot
 * @usage local labels = lg.tensor{3, 1, 10}
 * local y = lg.one_hot(labels, 10)   -- [3, 10]
 */
static int l_one_hot (lua_State *L) {
  lua_Integer c = -1;
  int il = 1;
  lg_tensor **r;
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) c = checkint(L, 2, "one_hot", "num_classes", 1, FLOAT_EXACT);
  if (lgL_totensor(L, 1) == NULL) {
    lua_Integer n;
    float *d;
    if (lua_type(L, 1) != LUA_TTABLE) return luaL_typeerror(L, 1, "tensor or table of labels");
    n = (lua_Integer)lua_rawlen(L, 1);
    r = lgL_newslot(L);
    int64_t len = (int64_t)n;
    lgL_settensor(L, r, lg_empty(1, &len));
    il = lua_gettop(L);
    d = lg_data(*r);   /* our own tensor, which no Lua code can reach */
    for (lua_Integer i = 1; i <= n; i++) {
      if (lua_rawgeti(L, 1, i) != LUA_TNUMBER)
        return luaL_error(L, "one_hot: label at position %I is a %s, expected a number", i,
                          luaL_typename(L, -1));
      d[i - 1] = (float)lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
  }
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_one_hot(lgL_checktensor(L, il), (int64_t)c));
}

/* }====================================================== */

const luaL_Reg lgL_compare_meta[] = {
  {"__eq", t_eq_meta},
  {"__lt", t_lt_meta},
  {"__le", t_le_meta},
  {NULL, NULL}
};

/* Shared by methods and module functions. */
#define COMPARE_FUNCS                 \
  {"gt", t_gt},                       \
  {"ge", t_ge},                       \
  {"lt", t_lt},                       \
  {"le", t_le},                       \
  {"eq", t_eq},                       \
  {"ne", t_ne},                       \
  {"equal", t_equal},                 \
  {"masked_fill", t_masked_fill},     \
  {"masked_select", t_masked_select}, \
  {"nonzero", t_nonzero},             \
  {"argmax", t_argmax},               \
  {"argmin", t_argmin},               \
  {"min", t_min},                     \
  {"floor", t_floor},                 \
  {"ceil", t_ceil},                   \
  {"round", t_round},                 \
  {"trunc", t_trunc},                 \
  {"isnan", t_isnan},                 \
  {"isinf", t_isinf},                 \
  {"isfinite", t_isfinite}

const luaL_Reg lgL_compare_methods[] = {
  COMPARE_FUNCS,
  {NULL, NULL}
};

const luaL_Reg lgL_compare_funcs[] = {
  COMPARE_FUNCS,
  {"where", l_where},
  {"randint", l_randint},
  {"eye", l_eye},
  {"one_hot", l_one_hot},
  {NULL, NULL}
};
