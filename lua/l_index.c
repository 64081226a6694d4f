/*
** Torch7-style indexing and in-place arithmetic on tensors: x[i], x[{...}]
** (reads through Tensor __index, writes through __newindex), select,
** add_ sub_ mul_ div_ lerp_ clamp_, scatter_ scatter_add_ index_copy_
** index_add_ and gather.  Positions are 1-based here (negative ones count
** from the end) and every message speaks 1-based; the core is 0-based.
**
** The in-place ops record no graph: like copy_ and fill_, they refuse a
** tensor that is a leaf requiring grad or part of a graph while grad mode is
** on (lg.no_grad is how an EMA of weights is written), and they refuse an
** operand that requires grad, whose gradient would be silently lost.
** Writes bump the storage version, so a backward that saved the old values
** fails instead of returning a wrong gradient.
*/
#include "luagan.h"
#include "autograd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* {====================================================== index keys */

/* A 1-based or negative position v along dim d (0-based) of size `size`,
** to 0-based; raises with the shape (copied by the caller) otherwise. */
static int64_t position(lua_State *L, lua_Integer v, int64_t size, int d, const char *what,
                        int ndim, const int64_t *shape) {
  char buf[160];
  lua_Integer p = v < 0 ? v + (lua_Integer)size + 1 : v;
  if (p >= 1 && p <= (lua_Integer)size) return (int64_t)(p - 1);
  lg_dims_str(shape, ndim, buf, sizeof buf);
  if (size == 0)
    luaL_error(L, "index: %s %I out of range for dim %d of shape %s (the dim is empty)", what,
               v, d + 1, buf);
  luaL_error(L, "index: %s %I out of range for dim %d of size %I in shape %s (valid: 1..%I "
             "or -%I..-1)", what, v, d + 1, (lua_Integer)size, buf, (lua_Integer)size,
             (lua_Integer)size);
  return 0;
}

static lua_Integer integer(lua_State *L, int idx, const char *what) {
  return lgL_checkintrange(L, idx, "index", what, LUA_MININTEGER, LUA_MAXINTEGER);
}

/* One entry of a table key (on top of the stack) for dim d. */
static void entry(lua_State *L, int d, int ndim, const int64_t *shape, lg_range *r) {
  int64_t size = shape[d];
  if (lua_type(L, -1) == LUA_TNUMBER) {
    r->start = position(L, integer(L, -1, "index"), size, d, "index", ndim, shape);
    r->length = 1;
    r->drop = true;
  } else if (lua_type(L, -1) == LUA_TTABLE) {
    lua_Unsigned len = lua_rawlen(L, -1);
    int64_t first, last;
    lua_Integer a, b;
    if (len > 2)
      luaL_error(L, "index: the range for dim %d has %I entries; give {first, last}, {i} or {}",
                 d + 1, (lua_Integer)len);
    r->drop = false;
    if (len == 0) {
      r->start = 0;
      r->length = size;
      return;
    }
    lua_rawgeti(L, -1, 1);
    a = integer(L, -1, "range start");
    lua_pop(L, 1);
    if (len == 2) {
      lua_rawgeti(L, -1, 2);
      b = integer(L, -1, "range end");
      lua_pop(L, 1);
    } else {
      b = a;
    }
    first = position(L, a, size, d, "range start", ndim, shape);
    last = position(L, b, size, d, "range end", ndim, shape);
    if (last < first)
      luaL_error(L, "index: range {%I, %I} is reversed for dim %d of size %I (its end comes "
                 "before its start)", a, b, d + 1, (lua_Integer)size);
    r->start = first;
    r->length = last - first + 1;
  } else {
    luaL_error(L, "index: entry %d must be an integer, a {first, last} range or {}, got %s",
               d + 1, luaL_typename(L, -1));
  }
}

/* The key at stack index 2 (a number or a table) as ranges over the first
** dims of the tensor at 1; returns how many.  Reads the key raw (no
** metamethod runs), from a copy of the shape. */
static int parse_key(lua_State *L, lg_range *r) {
  const lg_tensor *t = lgL_checktensor(L, 1);
  int64_t shape[LG_MAXDIM];
  int ndim = t->ndim, n;
  char buf[160];
  memcpy(shape, t->shape, sizeof shape);
  lg_dims_str(shape, ndim, buf, sizeof buf);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    if (ndim == 0)
      luaL_error(L, "index: a 0-dim tensor has no dims to index (use x:item())");
    lua_pushvalue(L, 2);
    entry(L, 0, ndim, shape, &r[0]);
    lua_pop(L, 1);
    return 1;
  }
  lua_Unsigned len = lua_rawlen(L, 2);
  if (len > (lua_Unsigned)ndim)
    luaL_error(L, "index: %I entries for shape %s, which has %d dims", (lua_Integer)len, buf,
               ndim);
  n = (int)len;
  for (int d = 0; d < n; d++) {
    lua_rawgeti(L, 2, d + 1);
    entry(L, d, ndim, shape, &r[d]);
    lua_pop(L, 1);
  }
  return n;
}

/* x[t] with a tensor t: PyTorch reads a mask or a list of indices by t's
** dtype; our tensors are all float, so the two look alike ({1, 1, 0} is
** both) and guessing would return the wrong elements. */
void lgL_tensorkey(lua_State *L, bool write) {
  if (lgL_totensor(L, 2) == NULL) return;
  if (write)
    luaL_error(L, "index: x[t] = v with a tensor t is not supported (a mask and a list of "
               "indices look alike): use x:masked_fill(mask, v), lg.where(mask, v, x) or "
               "x:index_copy_(d, index, src)");
  luaL_error(L, "index: x[t] with a tensor t is not supported (a mask and a list of indices "
             "look alike): use x:masked_select(mask) or x:index_select(d, index)");
}

int lgL_indexget(lua_State *L) {
  lg_range r[LG_MAXDIM];
  lg_tensor **out;
  int n;
  lua_settop(L, 2);
  lgL_tensorkey(L, false);
  if (lua_type(L, 2) != LUA_TNUMBER && lua_type(L, 2) != LUA_TTABLE) return 0;
  n = parse_key(L, r);
  out = lgL_newslot(L);
  return lgL_settensor(L, out, lg_index_view(lgL_checktensor(L, 1), n, r));
}

/* An operand of an in-place op that requires grad would lose its gradient. */
static void check_operand(lua_State *L, const lg_tensor *s, const char *op) {
  if (s->requires_grad && lg_grad_enabled())
    luaL_error(L, "%s: the operand requires grad, but in-place writes record no graph (its "
               "gradient would be lost); pass x:detach(), or write under lg.no_grad", op);
}

/* x[key] = v: v (a tensor broadcastable to the view, or a number) into
** the view; in place, with the same refusals as copy_. */
int lgL_indexset(lua_State *L) {
  lg_range r[LG_MAXDIM];
  lg_tensor **view, *t, *src = NULL;
  int n, isnum;
  float v = 0.0f;
  lua_settop(L, 3);
  n = parse_key(L, r);
  isnum = lua_type(L, 3) == LUA_TNUMBER;
  if (isnum) v = lgL_checkfloat(L, 3);
  else if (lgL_totensor(L, 3) == NULL)
    return luaL_error(L, "index: the assigned value must be a tensor or a number, got %s",
                      luaL_typename(L, 3));
  lgL_checkinplace(L, lgL_checktensor(L, 1), "indexed assignment");
  view = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  if (!isnum) check_operand(L, src = lgL_checktensor(L, 3), "indexed assignment");
  lgL_puttensor(L, view, lg_index_view(t, n, r));
  if (!lg_check_writable("indexed assignment", *view)) return lgL_coreerror(L);
  if (isnum) lg_fill_(*view, v);
  else if (lg_copy_(*view, src)) return lgL_coreerror(L);
  return 0;
}

/*** Tensor:select(d, i) -> Tensor
 * The slice at position i (1-based, negative from the end) along dim d,
 * with dim d removed: a view that shares x's storage, differentiable.
 * x[i] is x:select(1, i); x[i] of a 1-D tensor is a 0-dim tensor (as
 * PyTorch; :item() reads it).  Torch7's table form x[{2, {1, 3}, {}}]
 * takes per dim an integer (a select: the dim goes), an inclusive range
 * {first, last} or {i} (a narrow: the dim stays) or {} (the whole dim);
 * dims past the table stay whole.  Both are views, differentiable.
 * x[i] = v and x[{...}] = v copy v (a tensor broadcastable to the view, or
 * a number) into it, in place: refused, as copy_, on tensors of a graph.
 * A tensor key (PyTorch's x[mask], x[indices]) raises: every tensor is
 * float, so a mask and a list of indices look alike; x:masked_select(mask)
 * and x:index_select(d, index) say which is meant.
 * Also lg.select(x, d, i).
 * @function Tensor:select
 * @usage local row = x:select(1, 2)   -- x[2]
 */
static int t_select (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1), **r;
  int d = lgL_checkdim(L, 2, t, "select");
  lua_Integer i = lgL_checkintrange(L, 3, "select", "index", LUA_MININTEGER, LUA_MAXINTEGER);
  lua_Integer size = (lua_Integer)t->shape[d], p = i < 0 ? i + size + 1 : i;
  char buf[160];
  if (p < 1 || p > size)
    return luaL_error(L, "select: index %I out of range for dim %d of size %I in shape %s "
                      "(valid: 1..%I or -%I..-1)", i, d + 1, size,
                      lg_shape_str(t, buf, sizeof buf), size, size);
  r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_select(t, d, (int64_t)(p - 1)));
}

/* }====================================================== */

/* {====================================================== in-place arithmetic */

/* The operand at arg as a stack index holding a tensor: arg itself, or a
** new 0-dim tensor made from a number (an allocation: take pointers after). */
static int operand(lua_State *L, int arg) {
  lg_tensor **s;
  float v;
  if (lgL_totensor(L, arg) != NULL) return arg;
  if (lua_type(L, arg) != LUA_TNUMBER) return luaL_typeerror(L, arg, "tensor or number");
  v = lgL_checkfloat(L, arg);
  s = lgL_newslot(L);
  lgL_puttensor(L, s, lg_scalar(v));
  return lua_gettop(L);
}

/* Raises the core's message under the name the caller used (sub_ runs add_). */
static int inplace_error(lua_State *L, const char *op) {
  const char *m = lg_errmsg(), *colon = strchr(m, ':');
  if (colon && strncmp(m, op, (size_t)(colon - m)) != 0) return luaL_error(L, "%s%s", op, colon);
  return lgL_coreerror(L);
}

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

static int binary_ (lua_State *L, const char *op, int kind) {
  lg_tensor *x, *y;
  float alpha = 1.0f;
  int iy, rc;
  lgL_checktensor(L, 1);
  if (kind == OP_ADD || kind == OP_SUB) alpha = lua_isnoneornil(L, 3) ? 1.0f : lgL_checkfloat(L, 3);
  else if (!lua_isnone(L, 3)) return luaL_error(L, "%s: takes one operand", op);
  if (lua_isnone(L, 2)) return luaL_error(L, "%s: needs an operand (a tensor or a number)", op);
  lua_settop(L, 2);
  lgL_checkinplace(L, lgL_checktensor(L, 1), op);
  iy = operand(L, 2);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  y = lgL_checktensor(L, iy);
  check_operand(L, y, op);
  switch (kind) {
  case OP_ADD: rc = lg_add_(x, y, alpha); break;
  case OP_SUB: rc = lg_add_(x, y, -alpha); break;
  case OP_MUL: rc = lg_mul_(x, y); break;
  default: rc = lg_div_(x, y); break;
  }
  if (rc) return inplace_error(L, op);
  lua_settop(L, 1);
  return 1;
}

/*** Tensor:add_(y [, alpha]) -> Tensor
 * x = x + alpha * y in place (alpha defaults to 1); y is a tensor that
 * broadcasts to x's shape, or a number.  Returns x.  Records no graph: x
 * must not require grad unless under lg.no_grad.  Aliases are safe:
 * x:add_(x:t()) gives what x + x:t() gives.
 * @function Tensor:add_
 * @usage acc:add_(batch_loss:detach())
 */
static int t_add_ (lua_State *L) { return binary_(L, "add_", OP_ADD); }

/*** Tensor:sub_(y [, alpha]) -> Tensor
 * x = x - alpha * y in place; as add_.
 * @function Tensor:sub_
 * @usage x:sub_(x:mean())
 */
static int t_sub_ (lua_State *L) { return binary_(L, "sub_", OP_SUB); }

/*** Tensor:mul_(y) -> Tensor
 * x = x * y in place (y a tensor broadcastable to x, or a number); as add_.
 * @function Tensor:mul_
 * @usage w:mul_(0.5)
 */
static int t_mul_ (lua_State *L) { return binary_(L, "mul_", OP_MUL); }

/*** Tensor:div_(y) -> Tensor
 * x = x / y in place (y a tensor broadcastable to x, or a number); as add_.
 * @function Tensor:div_
 * @usage img:div_(255)
 */
static int t_div_ (lua_State *L) { return binary_(L, "div_", OP_DIV); }

/*** Tensor:lerp_(end, weight) -> Tensor
 * x = x + weight * (end - x) in place (exact at weight 1, as PyTorch);
 * end and weight are tensors broadcastable to x, or numbers.  The EMA of
 * a generator's weights: lg.no_grad(function() for i, p in
 * ipairs(ema:parameters()) do p:lerp_(params[i], 0.001) end end).
 * @function Tensor:lerp_
 * @usage lg.no_grad(function() avg:lerp_(w, 0.01) end)
 */
static int t_lerp_ (lua_State *L) {
  lg_tensor *x, *e, *w;
  int ie, iw;
  lgL_checktensor(L, 1);
  if (lua_isnoneornil(L, 2) || lua_isnoneornil(L, 3))
    return luaL_error(L, "lerp_: needs an end and a weight");
  lua_settop(L, 3);
  lgL_checkinplace(L, lgL_checktensor(L, 1), "lerp_");
  ie = operand(L, 2);
  iw = operand(L, 3);
  x = lgL_checktensor(L, 1);   /* after the allocations: see luagan.h */
  e = lgL_checktensor(L, ie);
  w = lgL_checktensor(L, iw);
  check_operand(L, e, "lerp_");
  check_operand(L, w, "lerp_");
  if (lg_lerp_(x, e, w)) return inplace_error(L, "lerp_");
  lua_settop(L, 1);
  return 1;
}

/*** Tensor:clamp_(lo, hi) -> Tensor
 * Clamps x into [lo, hi] in place; nil leaves that side open (give at
 * least one).  NaN stays NaN.  Returns x.
 * @function Tensor:clamp_
 * @usage w:clamp_(-0.01, 0.01)
 */
static int t_clamp_ (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1);
  float lo = lua_isnoneornil(L, 2) ? -INFINITY : lgL_checkfloat(L, 2);
  float hi = lua_isnoneornil(L, 3) ? INFINITY : lgL_checkfloat(L, 3);
  if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
    return luaL_error(L, "clamp_: give at least one of min and max");
  lgL_checkinplace(L, x, "clamp_");
  if (lg_clamp_(x, lo, hi)) return lgL_coreerror(L);
  lua_settop(L, 1);
  return 1;
}

/* }====================================================== */

/* {====================================================== scatter, gather */

/* The 1-based positions of the tensor at arg, checked (whole numbers in
** 1..size), as a new 0-based tensor stored in slot.  pos[] is the
** position within index, for messages. */
static void zero_based(lua_State *L, lg_tensor **slot, const lg_tensor *idx, int64_t size,
                       int d, const lg_tensor *x, const char *op) {
  int64_t pos[LG_MAXDIM] = {0};
  char b1[160], b2[160], num[32];
  float *v;
  lgL_puttensor(L, slot, lg_empty(idx->ndim, idx->shape));
  v = lg_data(*slot);
  lg_copy_to(idx, v);
  for (int64_t p = 0; p < idx->numel; p++) {
    if (!(v[p] >= 1.0f && v[p] <= (float)size) || v[p] != floorf(v[p])) {
      int64_t at[LG_MAXDIM];
      for (int k = 0; k < idx->ndim; k++) at[k] = pos[k] + 1;
      snprintf(num, sizeof num, "%.9g", isnan(v[p]) ? (double)NAN : (double)v[p]);
      luaL_error(L, "%s: index %s at position %s out of range 1..%I for dim %d of shape %s "
                 "(indices are whole numbers)", op, num, lg_dims_str(at, idx->ndim, b1, sizeof b1),
                 (lua_Integer)size, d + 1, lg_shape_str(x, b2, sizeof b2));
    }
    v[p] -= 1.0f;
    for (int k = idx->ndim - 1; k >= 0 && ++pos[k] == idx->shape[k]; k--) pos[k] = 0;
  }
}

/* index has x's ndim and fits inside x on every dim but d (and inside src
** on every dim, when src is given). */
static void check_fit(lua_State *L, const lg_tensor *x, int d, const lg_tensor *idx,
                      const lg_tensor *src, const char *op) {
  char b1[160], b2[160], b3[160];
  if (idx->ndim != x->ndim)
    luaL_error(L, "%s: index of shape %s must have the %d dims of shape %s", op,
               lg_shape_str(idx, b1, sizeof b1), x->ndim, lg_shape_str(x, b2, sizeof b2));
  for (int k = 0; k < x->ndim; k++)
    if (k != d && idx->shape[k] > x->shape[k])
      luaL_error(L, "%s: index of shape %s is larger than shape %s on dim %d", op,
                 lg_shape_str(idx, b1, sizeof b1), lg_shape_str(x, b2, sizeof b2), k + 1);
  if (src && src->ndim != idx->ndim)
    luaL_error(L, "%s: source of shape %s must have the %d dims of the index", op,
               lg_shape_str(src, b3, sizeof b3), idx->ndim);
  for (int k = 0; src && k < idx->ndim; k++)
    if (idx->shape[k] > src->shape[k])
      luaL_error(L, "%s: index of shape %s is larger than the source of shape %s on dim %d", op,
                 lg_shape_str(idx, b1, sizeof b1), lg_shape_str(src, b3, sizeof b3), k + 1);
}

/* index is 1-D and src is x's shape with #index on dim d: index_copy_,
** index_add_ and index_add. */
static void check_rows(lua_State *L, const lg_tensor *x, int d, const lg_tensor *idx,
                       const lg_tensor *src, const char *op) {
  char b1[160], b2[160];
  if (idx->ndim != 1)
    luaL_error(L, "%s: index must be 1-D, got shape %s", op, lg_shape_str(idx, b1, sizeof b1));
  bool ok = src->ndim == x->ndim && src->shape[d] == idx->shape[0];
  for (int k = 0; ok && k < x->ndim; k++)
    if (k != d && src->shape[k] != x->shape[k]) ok = false;
  if (!ok)
    luaL_error(L, "%s: source of shape %s does not fit shape %s with %I indices along dim %d "
               "(it must be that shape with %I on dim %d)", op, lg_shape_str(src, b1, sizeof b1),
               lg_shape_str(x, b2, sizeof b2), (lua_Integer)idx->shape[0], d + 1,
               (lua_Integer)idx->shape[0], d + 1);
}

/* x:scatter_(d, index, src) / x:scatter_add_(d, index, src); src may be a
** number (every indexed place gets it). */
static int scatter_ (lua_State *L, bool add) {
  const char *op = add ? "scatter_add_" : "scatter_";
  lg_tensor *x = lgL_checktensor(L, 1), *idx, *src, **c, **fill = NULL;
  int d = lgL_checkdim(L, 2, x, op), isnum;
  float v = 0.0f;
  lgL_checktensor(L, 3);
  lua_settop(L, 4);
  isnum = lua_type(L, 4) == LUA_TNUMBER;
  if (isnum) v = lgL_checkfloat(L, 4);
  else lgL_checktensor(L, 4);
  lgL_checkinplace(L, x, op);
  c = lgL_newslot(L);
  if (isnum) fill = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocations: see luagan.h */
  idx = lgL_checktensor(L, 3);
  if (isnum) lgL_puttensor(L, fill, lg_full(idx->ndim, idx->shape, v));
  src = isnum ? *fill : lgL_checktensor(L, 4);
  check_operand(L, src, op);
  check_fit(L, x, d, idx, src, op);
  zero_based(L, c, idx, x->shape[d], d, x, op);
  if (lg_scatter_(x, d, *c, src, add)) return lgL_coreerror(L);
  lua_settop(L, 1);
  return 1;
}

/*** Tensor:scatter_(d, index, src) -> Tensor
 * torch's scatter_: x[..index[p]..] = src[p] along dim d for every
 * position p of index (1-based positions as floats, index with x's dims,
 * fitting x on the other dims); src is a tensor at least index's size, or
 * a number.  In place, no graph; when positions repeat the last one wins.
 * @function Tensor:scatter_
 * @usage local onehot = lg.zeros(4, 10):scatter_(2, labels:view(4, 1), 1)
 */
static int t_scatter_ (lua_State *L) { return scatter_(L, false); }

/*** Tensor:scatter_add_(d, index, src) -> Tensor
 * As scatter_, but adds: x[..index[p]..] += src[p] (repeats add up).
 * @function Tensor:scatter_add_
 * @usage counts:scatter_add_(1, labels, lg.ones(labels:size(1)))
 */
static int t_scatter_add_ (lua_State *L) { return scatter_(L, true); }

/* x:index_copy_(d, index, src) / x:index_add_(d, index, src) */
static int index_copy_ (lua_State *L, bool add) {
  const char *op = add ? "index_add_" : "index_copy_";
  lg_tensor *x = lgL_checktensor(L, 1), *idx, *src, **c;
  int d = lgL_checkdim(L, 2, x, op);
  lgL_checktensor(L, 3);
  lgL_checktensor(L, 4);
  lua_settop(L, 4);
  lgL_checkinplace(L, x, op);
  c = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  idx = lgL_checktensor(L, 3);
  src = lgL_checktensor(L, 4);
  check_operand(L, src, op);
  check_rows(L, x, d, idx, src, op);
  zero_based(L, c, idx, x->shape[d], d, x, op);
  if (lg_index_copy_(x, d, *c, src, add)) return lgL_coreerror(L);
  lua_settop(L, 1);
  return 1;
}

/*** Tensor:index_copy_(d, index, src) -> Tensor
 * Slice i of src along dim d into slice index[i] of x (index 1-D, 1-based
 * positions as floats; src is x's shape with #index on dim d).  In place,
 * no graph; when positions repeat the last one wins.
 * @function Tensor:index_copy_
 * @usage x:index_copy_(1, lg.tensor{1, 3}, rows)
 */
static int t_index_copy_ (lua_State *L) { return index_copy_(L, false); }

/*** Tensor:index_add_(d, index, src) -> Tensor
 * As index_copy_, but adds slice i of src onto slice index[i] of x
 * (repeats add up).
 * @function Tensor:index_add_
 * @usage sums:index_add_(1, class_of_row, rows)
 */
static int t_index_add_ (lua_State *L) { return index_copy_(L, true); }

/* Replaces the tensor in slot by t (a new reference), releasing the old. */
static void replace(lua_State *L, lg_tensor **slot, lg_tensor *t) {
  lg_release(*slot);
  *slot = NULL;
  lgL_puttensor(L, slot, t);
}

/*** Tensor:scatter_add(d, index, src) -> Tensor
 * Out of place and differentiable in x and src: x plus src[p] added at
 * x[..index[p]..] along dim d for every position p of index (1-based
 * positions as floats; index with x's dims, fitting x on the other dims and
 * src everywhere).  Also lg.scatter_add(x, d, index, src).
 * Shapes: x [..], index and src with x's dims -> x's shape.
 * @function Tensor:scatter_add
 * @usage local counts = lg.zeros(10):scatter_add(1, labels, lg.ones(labels:size(1)))
 */
static int t_scatter_add (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *idx, *src, **c, **part, **r;
  int d = lgL_checkdim(L, 2, x, "scatter_add");
  lgL_checktensor(L, 3);
  lgL_checktensor(L, 4);
  lua_settop(L, 4);
  c = lgL_newslot(L);
  part = lgL_newslot(L);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocations: see luagan.h */
  idx = lgL_checktensor(L, 3);
  src = lgL_checktensor(L, 4);
  check_fit(L, x, d, idx, src, "scatter_add");
  zero_based(L, c, idx, x->shape[d], d, x, "scatter_add");
  lg_retain(src);
  *part = src;
  for (int k = 0; k < idx->ndim; k++)   /* the part of src the index covers */
    if (src->shape[k] != idx->shape[k]) replace(L, part, lg_narrow(*part, k, 0, idx->shape[k]));
  replace(L, part, lg_scatter(*part, d, *c, x->ndim, x->shape));
  return lgL_settensor(L, r, lg_add(x, *part));
}

/*** Tensor:index_add(d, index, src) -> Tensor
 * Out of place and differentiable in x and src: x with slice i of src along
 * dim d added onto slice index[i] (index 1-D, 1-based positions as floats;
 * src is x's shape with #index on dim d; repeats add up).  Also
 * lg.index_add(x, d, index, src).
 * Shapes: x [.., n, ..], index [k], src [.., k, ..] -> x's shape.
 * @function Tensor:index_add
 * @usage local sums = lg.zeros(3, 4):index_add(1, lg.tensor{1, 3, 1}, rows)   -- rows [3, 4]
 */
static int t_index_add (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *idx, *src, **c, **part, **r;
  int d = lgL_checkdim(L, 2, x, "index_add");
  lgL_checktensor(L, 3);
  lgL_checktensor(L, 4);
  lua_settop(L, 4);
  c = lgL_newslot(L);
  part = lgL_newslot(L);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocations: see luagan.h */
  idx = lgL_checktensor(L, 3);
  src = lgL_checktensor(L, 4);
  check_rows(L, x, d, idx, src, "index_add");
  zero_based(L, c, idx, x->shape[d], d, x, "index_add");
  /* the 1-D index laid along dim d and repeated over src's other dims */
  int64_t along[LG_MAXDIM];
  for (int k = 0; k < x->ndim; k++) along[k] = k == d ? idx->shape[0] : 1;
  replace(L, c, lg_view(*c, x->ndim, along));
  replace(L, c, lg_expand(*c, src->ndim, src->shape));
  replace(L, c, lg_contiguous(*c));
  lgL_puttensor(L, part, lg_scatter(src, d, *c, x->ndim, x->shape));
  return lgL_settensor(L, r, lg_add(x, *part));
}

/*** Tensor:gather(d, index) -> Tensor
 * torch's gather: out[..p..] = x[..index[p]..] along dim d; index holds
 * 1-based positions as floats, has x's dims and fits x on the others; the
 * result has index's shape.  Differentiable in x.  Also lg.gather(x, d, index).
 * @function Tensor:gather
 * @usage local picked = logp:gather(2, labels:view(-1, 1))
 */
static int t_gather (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), *idx, **c, **r;
  int d = lgL_checkdim(L, 2, x, "gather");
  lgL_checktensor(L, 3);
  lua_settop(L, 3);
  c = lgL_newslot(L);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocations: see luagan.h */
  idx = lgL_checktensor(L, 3);
  check_fit(L, x, d, idx, NULL, "gather");
  zero_based(L, c, idx, x->shape[d], d, x, "gather");
  return lgL_settensor(L, r, lg_gather(x, d, *c));
}

/* }====================================================== */

const luaL_Reg lgL_index_methods[] = {
  {"select", t_select},
  {"add_", t_add_},
  {"sub_", t_sub_},
  {"mul_", t_mul_},
  {"div_", t_div_},
  {"lerp_", t_lerp_},
  {"clamp_", t_clamp_},
  {"scatter_", t_scatter_},
  {"scatter_add_", t_scatter_add_},
  {"index_copy_", t_index_copy_},
  {"index_add_", t_index_add_},
  {"scatter_add", t_scatter_add},
  {"index_add", t_index_add},
  {"gather", t_gather},
  {NULL, NULL}
};

const luaL_Reg lgL_index_funcs[] = {
  {"select", t_select},
  {"gather", t_gather},
  {"scatter_add", t_scatter_add},
  {"index_add", t_index_add},
  {NULL, NULL}
};
