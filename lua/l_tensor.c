/*
** The Tensor type seen from Lua: userdata lifetime, argument helpers,
** properties, printing, creation, element access and views.
** See luagan.h for the rules every binding function follows.
*/
#include "luagan.h"
#include "autograd.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

uint64_t lgL_gc_charged;
static uint64_t gc_soft_limit = LG_GC_HEADROOM_BYTES;

void lgL_charge(lua_State *L, const lg_memstats *m) {
  int kb = (int)((m->bytes_allocated_total - lgL_gc_charged) >> 10);
  lgL_gc_charged = m->bytes_allocated_total;
  if (m->bytes_live > gc_soft_limit) {
    uint64_t live;
    lua_gc(L, LUA_GCCOLLECT);
    live = lg_memory().bytes_live;
    gc_soft_limit = live + (live / 2 > LG_GC_HEADROOM_BYTES ? live / 2 : LG_GC_HEADROOM_BYTES);
  } else {
    lua_gc(L, LUA_GCSTEP, kb);
  }
}

/* {====================================================== userdata */

int lgL_istensor_slow(lua_State *L, int idx) {
  return luaL_testudata(L, idx, LG_TENSOR_MT) != NULL;
}

int lgL_freederror(lua_State *L) {
  return luaL_error(L, "attempt to use a freed tensor");
}

int lgL_coreerror(lua_State *L) {
  return luaL_error(L, "%s", lg_errmsg());
}

/* The payload slot of the tensor userdata at idx, freed or not; NULL when
** the value is not a tensor. */
static lg_tensor **toslot(lua_State *L, int idx) {
  lg_tensor **p = (lg_tensor **)lua_touserdata(L, idx);
  int ok;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  ok = lua_rawequal(L, -1, lua_upvalueindex(1));
  lua_pop(L, 1);
  return (ok || lgL_istensor_slow(L, idx)) ? p : NULL;
}

lg_tensor *lgL_checktensor(lua_State *L, int arg) {
  lg_tensor *t = lgL_totensor(L, arg);
  if (t == NULL) luaL_typeerror(L, arg, "tensor");
  return t;
}

lg_tensor *lgL_opttensor(lua_State *L, int arg) {
  return lua_isnoneornil(L, arg) ? NULL : lgL_checktensor(L, arg);
}

lg_tensor **lgL_newslot(lua_State *L) {
  lg_tensor **p = (lg_tensor **)lua_newuserdatauv(L, sizeof *p, 0);
  *p = NULL;  /* an empty slot is harmless if anything below raises */
  if (lua_type(L, lua_upvalueindex(1)) == LUA_TTABLE)
    lua_pushvalue(L, lua_upvalueindex(1));
  else
    luaL_getmetatable(L, LG_TENSOR_MT);
  lua_setmetatable(L, -2);
  return p;
}

void lgL_pushretained(lua_State *L, lg_tensor *t) {
  lg_tensor **p = lgL_newslot(L);
  lg_retain(t);
  *p = t;
}

/* __gc and __close: drop the reference once, whoever comes first. */
static int t_gc (lua_State *L) {
  lg_tensor **p = toslot(L, 1);
  if (p != NULL && *p != NULL) {
    lg_release(*p);
    *p = NULL;
  }
  return 0;
}

/* }====================================================== */

/* {====================================================== argument helpers */

int lgL_normdim(lua_State *L, lua_Integer d, const lg_tensor *t, const char *op, int extra) {
  lua_Integer n = t->ndim + (extra ? 1 : 0);
  char buf[160];
  if (d >= 1 && d <= n) return (int)d - 1;
  if (d <= -1 && d >= -n) return (int)(d + n);
  lg_shape_str(t, buf, sizeof buf);
  if (n == 0)
    return luaL_error(L, "%s: dim %I out of range for shape %s (a 0-dim tensor has no dims)",
                      op, d, buf);
  return luaL_error(L, "%s: dim %I out of range for shape %s (valid: 1..%d or -%d..-1)",
                    op, d, buf, (int)n, (int)n);
}

int lgL_checkdim(lua_State *L, int arg, const lg_tensor *t, const char *op) {
  return lgL_normdim(L, luaL_checkinteger(L, arg), t, op, 0);
}

int lgL_optdim(lua_State *L, int arg, const lg_tensor *t, const char *op, int def) {
  return lua_isnoneornil(L, arg) ? def : lgL_checkdim(L, arg, t, op);
}

/* One size of a shape; the value is on top of the stack. */
static int64_t shape_entry(lua_State *L, int i, const char *op) {
  int isint;
  lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : (isint = 0);
  if (!isint)
    luaL_error(L, "%s: size %d of the shape must be an integer, got %s", op, i + 1,
               lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
  return (int64_t)v;
}

int lgL_checkshape(lua_State *L, int first, int64_t *shape, const char *op, int allow_neg1) {
  int top = lua_gettop(L), n, i;
  char buf[160];
  if (lua_type(L, first) == LUA_TTABLE) {
    if (top > first)
      luaL_error(L, "%s: give the shape as one table or as numbers, not both", op);
    lua_Unsigned len = lua_rawlen(L, first);   /* compared before any cast to int */
    if (len > LG_MAXDIM)
      luaL_error(L, "%s: %I dimensions requested, at most %d are supported", op,
                 (lua_Integer)len, LG_MAXDIM);
    n = (int)len;
    for (i = 0; i < n; i++) {
      lua_rawgeti(L, first, i + 1);
      shape[i] = shape_entry(L, i, op);
      lua_pop(L, 1);
    }
  } else {
    n = top >= first ? top - first + 1 : 0;
    if (n > LG_MAXDIM)
      luaL_error(L, "%s: %d dimensions requested, at most %d are supported", op, n, LG_MAXDIM);
    for (i = 0; i < n; i++) {
      if (lua_type(L, first + i) != LUA_TNUMBER)
        luaL_typeerror(L, first + i, "integer size");
      shape[i] = luaL_checkinteger(L, first + i);
    }
  }
  for (i = 0; i < n; i++) {
    if (shape[i] < -1 || (shape[i] == -1 && !allow_neg1))
      luaL_error(L, "%s: %s size %I in shape %s", op, allow_neg1 ? "invalid" : "negative",
                 (lua_Integer)shape[i], lg_dims_str(shape, n, buf, sizeof buf));
  }
  if (!allow_neg1 && !lg_check_shape(op, n, shape)) lgL_coreerror(L);
  return n;
}

void lgL_checkoptions(lua_State *L, int arg, const char *op, const char *const valid[]) {
  if (lua_isnoneornil(L, arg)) return;
  if (lua_type(L, arg) != LUA_TTABLE) luaL_typeerror(L, arg, "table of options");
  lua_pushnil(L);
  while (lua_next(L, arg)) {
    int i, known = 0;
    lua_pop(L, 1);  /* the value */
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      for (i = 0; valid[i]; i++)
        if (strcmp(k, valid[i]) == 0) known = 1;
    }
    if (!known) {
      luaL_Buffer b;
      const char *key = luaL_tolstring(L, -1, NULL);
      luaL_buffinit(L, &b);
      for (i = 0; valid[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, valid[i]);
      }
      luaL_pushresult(&b);
      luaL_error(L, "%s: unknown option '%s' (valid: %s)", op, key, lua_tostring(L, -1));
    }
  }
}

int lgL_optboolfield(lua_State *L, int arg, const char *key, int def, const char *op) {
  int v = def, tp;
  if (lua_isnoneornil(L, arg)) return def;
  tp = lua_getfield(L, arg, key);
  if (tp == LUA_TBOOLEAN) v = lua_toboolean(L, -1);
  else if (tp != LUA_TNIL)
    luaL_error(L, "%s: option '%s' must be a boolean, got %s", op, key, luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

lua_Number lgL_checkfloatrange(lua_State *L, int arg) {
  lua_Number n = luaL_checknumber(L, arg);
  luaL_argcheck(L, !(isfinite(n) && fabs(n) > FLT_MAX), arg, "number out of float range");
  return n;
}

float lgL_checkfloat(lua_State *L, int arg) { return (float)lgL_checkfloatrange(L, arg); }

/* A bound of an integer range for messages: 2^31-1 reads better than 2147483647. */
static const char *boundstr(lua_Integer v, char *buf, size_t size) {
  if (v == INT_MAX) return "2^31-1";
  if (v == INT_MIN) return "-2^31";
  snprintf(buf, size, "%lld", (long long)v);
  return buf;
}

lua_Integer lgL_checkintrange(lua_State *L, int idx, const char *op, const char *what,
                              lua_Integer lo, lua_Integer hi) {
  int isint = 0;
  lua_Integer v = 0;
  char b1[32], b2[32];
  if (lua_type(L, idx) == LUA_TNUMBER) v = lua_tointegerx(L, idx, &isint);
  if (!isint) {
    if (lua_type(L, idx) == LUA_TNUMBER)   /* %f: 2.5, 1e+100, inf, nan */
      luaL_error(L, "%s: %s must be an integer, got %f", op, what, lua_tonumber(L, idx));
    luaL_error(L, "%s: %s must be an integer, got %s", op, what, luaL_typename(L, idx));
  }
  if (v < lo || v > hi)
    luaL_error(L, "%s: %s %I is out of range (%s..%s)", op, what, v,
               boundstr(lo, b1, sizeof b1), boundstr(hi, b2, sizeof b2));
  return v;
}

lua_Integer lgL_optintfield(lua_State *L, int arg, const char *key, lua_Integer def,
                            lua_Integer lo, lua_Integer hi, const char *op) {
  lua_Integer v = def;
  if (lua_isnoneornil(L, arg)) return def;
  if (lua_getfield(L, arg, key) != LUA_TNIL) v = lgL_checkintrange(L, -1, op, key, lo, hi);
  lua_pop(L, 1);
  return v;
}

void lgL_setfuncs(lua_State *L, const luaL_Reg *l) {
  luaL_getmetatable(L, LG_TENSOR_MT);
  luaL_setfuncs(L, l, 1);
}

/* The in-place ops are not recorded in the graph (torch records them, and
** refuses them on leaves), so a write into a tensor of a graph would leave
** backward differentiating values that are gone: refuse it while a graph
** could be recorded.  Writes through an alias or under no_grad are caught
** at backward instead, by the storage version of each saved tensor. */
static void check_inplace(lua_State *L, const lg_tensor *t, const char *op) {
  if (!t->requires_grad || !lg_grad_enabled()) return;
  if (t->grad_fn == NULL)
    luaL_error(L, "%s: a leaf tensor that requires grad cannot be modified in place; "
               "use lg.no_grad", op);
  luaL_error(L, "%s: a tensor computed by '%s' (part of a graph) cannot be modified in "
             "place; use :detach() or lg.no_grad", op, t->grad_fn->name);
}

void lgL_checkinplace(lua_State *L, const lg_tensor *t, const char *op) {
  check_inplace(L, t, op);
}

/* }====================================================== */

/* {====================================================== properties */

/* The shape is copied first: the table's allocation may run a finalizer
** that frees t.  Filling the preallocated table allocates nothing. */
static void pushshape(lua_State *L, const lg_tensor *t) {
  int64_t shape[LG_MAXDIM];
  int n = t->ndim;
  memcpy(shape, t->shape, sizeof shape);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/*** x.shape -> {integer, ...}
 * The sizes of x's dims as a new list, outermost first ({} for a 0-dim
 * tensor); x:size() returns the same.  Reading a property of a freed tensor
 * raises "attempt to use a freed tensor".
 * @function Tensor.shape
 * @usage local x = lg.zeros(2, 3)
 * print(x.shape[1], x.shape[2])   --> 2  3
 */
/*** x.ndim -> integer
 * The number of dims of x (0 for a scalar made by lg.tensor(3.5)); x:dim()
 * returns the same.
 * @function Tensor.ndim
 * @usage assert(lg.zeros(2, 3).ndim == 2)
 */
/*** x.grad -> Tensor | nil
 * The gradient that backward accumulated into x (a leaf with requires_grad),
 * nil before the first backward.  Assignable: x.grad = nil clears it, x.grad =
 * g replaces it with g, which must have x's shape, no grad of its own and
 * requires_grad false (use g:detach()), so that no reference cycle can form.
 * @function Tensor.grad
 * @usage local w = lg.ones(3)
 * w.requires_grad = true
 * local loss = (w * 2):sum()
 * loss:backward()
 * print(w.grad)        -- 2, 2, 2
 * w.grad = nil
 */
/*** x.requires_grad -> boolean
 * Whether operations on x are recorded for backward.  Assignable on a leaf
 * only (a tensor computed by an op raises "can only be set on a leaf tensor";
 * use x:detach()); the value must be a boolean.  x:requires_grad_() sets it
 * and returns x.
 * @function Tensor.requires_grad
 * @usage local w = lg.randn(4, 2)
 * w.requires_grad = true
 */
/*** x.grad_fn -> string | nil
 * The name of the op that computed x while a graph was recorded ("matmul",
 * "add", ...), nil for a leaf.
 * @function Tensor.grad_fn
 * @usage local w = lg.ones(2):requires_grad_()
 * print((w * 3).grad_fn)   --> mul
 */
/*** x.is_leaf -> boolean
 * True when x was not computed by a recorded op (x.grad_fn is nil): created
 * tensors, detached tensors, parameters.  Only leaves receive .grad.
 * @function Tensor.is_leaf
 * @usage assert(lg.zeros(2).is_leaf)
 */
/* Methods first (one raw lookup, the common case), properties second. */
int lgL_index(lua_State *L) {
  lg_tensor *t;
  const char *k;
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
  if (lua_type(L, 2) != LUA_TSTRING) return lgL_indexget(L);   /* x[i], x[{...}] */
  k = lua_tostring(L, 2);
  t = lgL_checktensor(L, 1);
  if (strcmp(k, "shape") == 0) pushshape(L, t);
  else if (strcmp(k, "grad") == 0) return lgL_getgrad(L, 1);
  else if (strcmp(k, "requires_grad") == 0) lua_pushboolean(L, t->requires_grad);
  else if (strcmp(k, "grad_fn") == 0) {
    if (t->grad_fn) lua_pushstring(L, t->grad_fn->name);
    else lua_pushnil(L);
  }
  else if (strcmp(k, "is_leaf") == 0) lua_pushboolean(L, t->grad_fn == NULL);
  else if (strcmp(k, "ndim") == 0) lua_pushinteger(L, t->ndim);
  else lua_pushnil(L);
  return 1;
}

static int t_newindex (lua_State *L) {
  const char *k;
  if (lua_type(L, 2) == LUA_TNUMBER || lua_type(L, 2) == LUA_TTABLE)
    return lgL_indexset(L);             /* x[i] = v, x[{...}] = v */
  lgL_tensorkey(L, true);
  k = lua_tostring(L, 2);               /* may allocate: before taking t */
  lg_tensor *t = lgL_checktensor(L, 1);
  if (k && strcmp(k, "requires_grad") == 0) lgL_setrequiresgrad(L, t, 3);
  else if (k && strcmp(k, "grad") == 0) lgL_setgrad(L, t, 3);
  else
    return luaL_error(L, "tensor: cannot set field '%s' (only requires_grad and grad "
                      "can be assigned)", luaL_tolstring(L, 2, NULL));
  return 0;
}

static int t_len (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  if (t->ndim == 0) return luaL_error(L, "len: a 0-dim tensor has no length");
  lua_pushinteger(L, (lua_Integer)t->shape[0]);
  return 1;
}

/* }====================================================== */

/* {====================================================== printing
** Like PyTorch: 4 decimals (or scientific notation when the magnitudes call
** for it), right-aligned to a common width, one row per line; tensors of
** more than 1000 elements show the first and last 3 entries of each dim. */

#define PRINT_EDGE 3
#define PRINT_MAX 1000
#define PRINT_COLS 80

typedef struct {
  luaL_Buffer b;
  const lg_tensor *t;
  const float *base;
  int abbrev, sci, width, col;
  /* scan results */
  double maxabs, minabs;
} printer;

/* Shown positions along a dim of size n: all, or the edges around a gap. */
static int64_t next_index(const printer *p, int64_t n, int64_t i) {
  if (p->abbrev && n > 2 * PRINT_EDGE && i == PRINT_EDGE - 1) return n - PRINT_EDGE;
  return i + 1;
}

static void scan(printer *p, int d, int64_t off) {
  const lg_tensor *t = p->t;
  for (int64_t i = 0; i < t->shape[d]; i = next_index(p, t->shape[d], i)) {
    int64_t o = off + i * t->stride[d];
    if (d < t->ndim - 1) {
      scan(p, d + 1, o);
    } else {
      double v = fabs((double)p->base[o]);
      if (isfinite(v) && v > 0) {
        if (v > p->maxabs) p->maxabs = v;
        if (v < p->minabs) p->minabs = v;
      }
    }
  }
}

static void fmtval(char *s, size_t n, float v, int sci) {
  if (isnan(v)) snprintf(s, n, "nan");
  else if (isinf(v)) snprintf(s, n, v > 0 ? "inf" : "-inf");
  else snprintf(s, n, sci ? "%.4e" : "%.4f", (double)v);
}

static void widths(printer *p, int d, int64_t off) {
  const lg_tensor *t = p->t;
  char s[64];
  for (int64_t i = 0; i < t->shape[d]; i = next_index(p, t->shape[d], i)) {
    int64_t o = off + i * t->stride[d];
    if (d < t->ndim - 1) {
      widths(p, d + 1, o);
    } else {
      fmtval(s, sizeof s, p->base[o], p->sci);
      if ((int)strlen(s) > p->width) p->width = (int)strlen(s);
    }
  }
}

static void put(printer *p, const char *s) {
  luaL_addstring(&p->b, s);
  for (; *s; s++) p->col = *s == '\n' ? 0 : p->col + 1;
}

/* A line break followed by `indent` spaces (the column after the braces). */
static void newline(printer *p, int lines, int indent) {
  while (lines-- > 0) put(p, "\n");
  for (int i = 0; i < indent; i++) put(p, " ");
}

static void putval(printer *p, float v) {
  char s[64];
  fmtval(s, sizeof s, v, p->sci);
  for (int pad = p->width - (int)strlen(s); pad > 0; pad--) put(p, " ");
  put(p, s);
}

static void emit(printer *p, int d, int64_t off) {
  const lg_tensor *t = p->t;
  int64_t n = t->shape[d];
  int last = d == t->ndim - 1, indent = 8 + d;   /* 8 = strlen("tensor({") */
  put(p, "{");
  for (int64_t i = 0; i < n; i = next_index(p, n, i)) {
    int64_t o = off + i * t->stride[d];
    if (last) putval(p, p->base[o]);
    else emit(p, d + 1, o);
    if (i == n - 1) break;
    put(p, ",");
    if (last) {
      if (p->col + p->width + 2 > PRINT_COLS) newline(p, 1, indent);
      else put(p, " ");
    } else {
      newline(p, t->ndim - 1 - d, indent);
    }
    if (next_index(p, n, i) != i + 1) {   /* the gap of an abbreviated dim */
      put(p, "...,");
      if (last) put(p, " ");
      else newline(p, t->ndim - 1 - d, indent);
    }
  }
  put(p, "}");
}

static int t_tostring (lua_State *L) {
  lg_tensor **slot = toslot(L, 1), **pin, *t;
  printer p;
  char s[64];
  if (slot == NULL) return luaL_typeerror(L, 1, "tensor");
  /* The buffer allocates as it grows, and a finalizer run by an allocation
  ** could free the tensor: print from a reference of our own, held by a
  ** userdata that no Lua code can reach. */
  lua_settop(L, 1);
  pin = lgL_newslot(L);
  if ((t = *slot) == NULL) {
    lua_pushliteral(L, "tensor(freed)");
    return 1;
  }
  lg_retain(t);
  *pin = t;
  memset(&p, 0, sizeof p);
  p.t = t;
  p.base = t->storage->data;
  p.abbrev = t->numel > PRINT_MAX;
  p.minabs = HUGE_VAL;
  if (t->numel > 0 && t->ndim > 0) scan(&p, 0, t->offset);
  else if (t->numel > 0) p.maxabs = p.minabs = fabs((double)p.base[t->offset]);
  p.sci = p.maxabs > 0 && isfinite(p.maxabs) &&
          (p.maxabs / p.minabs > 1000.0 || p.maxabs > 1e8 || p.minabs < 1e-4);
  if (t->numel > 0 && t->ndim > 0) widths(&p, 0, t->offset);
  luaL_buffinit(L, &p.b);
  put(&p, "tensor(");
  if (t->ndim == 0) {
    fmtval(s, sizeof s, p.base[t->offset], p.sci);
    put(&p, s);
  } else {
    emit(&p, 0, t->offset);
    put(&p, ", shape={");
    for (int i = 0; i < t->ndim; i++) {
      snprintf(s, sizeof s, i ? ",%lld" : "%lld", (long long)t->shape[i]);
      put(&p, s);
    }
    put(&p, "}");
  }
  if (t->grad_fn) {
    put(&p, ", grad_fn=");
    put(&p, t->grad_fn->name);
  } else if (t->requires_grad) {
    put(&p, ", requires_grad=true");
  }
  put(&p, ")");
  luaL_pushresult(&p.b);
  return 1;
}

/* }====================================================== */

/* {====================================================== creation */

/* Fills *out from the nested table on top of the stack, which stands at
** depth d (0-based) of the shape. */
static void fill_from_table(lua_State *L, int d, int ndim, const int64_t *shape,
                            float **out, lua_Integer *path) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
  if (n != shape[d])
    luaL_error(L, "tensor: ragged nested table at depth %d (expected %I elements, got %I)",
               d + 1, (lua_Integer)shape[d], n);
  for (lua_Integer i = 1; i <= n; i++) {
    int tp = lua_rawgeti(L, -1, i);
    path[d] = i;
    if (d + 1 < ndim) {
      if (tp != LUA_TTABLE)
        luaL_error(L, "tensor: ragged nested table at depth %d (expected a table of %I "
                   "elements, got %s)", d + 2, (lua_Integer)shape[d + 1], lua_typename(L, tp));
      fill_from_table(L, d + 1, ndim, shape, out, path);
    } else if (tp == LUA_TNUMBER) {
      *(*out)++ = (float)lua_tonumber(L, -1);
    } else if (tp == LUA_TTABLE) {
      luaL_error(L, "tensor: ragged nested table at depth %d (expected a number, got a table)",
                 d + 2);
    } else {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int k = 0; k <= d; k++) {
        lua_pushfstring(L, k ? ",%I" : "%I", path[k]);
        luaL_addvalue(&b);
      }
      luaL_pushresult(&b);
      luaL_error(L, "tensor: non-number value (%s) at position {%s}", lua_typename(L, tp),
                 lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
}

/*** lg.tensor(values) -> Tensor
 * A new tensor holding a copy of values: nested Lua lists of numbers (the
 * shape follows the nesting, at most 8 dims; ragged lists and non-numbers
 * raise naming the 1-based position), a number (a 0-dim tensor) or a tensor
 * (a detached copy, no graph).
 * @function lg.tensor
 * @usage local x = lg.tensor{{1, 2, 3}, {4, 5, 6}}   -- shape {2, 3}
 * local s = lg.tensor(0.5)                          -- 0-dim
 */
/* lg.tensor(nested tables | number | tensor): a new tensor with a copy of the values. */
static int l_tensor (lua_State *L) {
  int64_t shape[LG_MAXDIM];
  lua_Integer path[LG_MAXDIM];
  int ndim = 0;
  lg_tensor **r, *src;
  float *d;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    float v = lgL_checkfloat(L, 1);
    r = lgL_newslot(L);
    return lgL_settensor(L, r, lg_scalar(v));
  }
  if (lgL_totensor(L, 1) != NULL) {
    lg_tensor *c;
    r = lgL_newslot(L);
    src = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
    c = lg_detach(src);
    if (c) {
      lg_tensor *cl = lg_clone(c);
      lg_release(c);
      c = cl;
    }
    return lgL_settensor(L, r, c);
  }
  if (lua_type(L, 1) != LUA_TTABLE) return luaL_typeerror(L, 1, "table, number or tensor");
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  while (lua_type(L, -1) == LUA_TTABLE) {   /* the shape follows the first elements */
    if (ndim == LG_MAXDIM)
      return luaL_error(L, "tensor: nested table deeper than %d levels (at most %d dimensions "
                        "are supported)", LG_MAXDIM, LG_MAXDIM);
    shape[ndim] = (int64_t)lua_rawlen(L, -1);
    if (shape[ndim++] == 0) break;
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_settop(L, 1);
  r = lgL_newslot(L);
  lgL_settensor(L, r, lg_empty(ndim, shape));
  d = lg_data(*r);
  lua_pushvalue(L, 1);
  fill_from_table(L, 0, ndim, shape, &d, path);
  lua_settop(L, 2);
  return 1;
}

typedef lg_tensor *(*shapefn)(int ndim, const int64_t *shape);

static int create(lua_State *L, const char *op, shapefn f) {
  int64_t shape[LG_MAXDIM];
  int nd = lgL_checkshape(L, 1, shape, op, 0);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, f(nd, shape));
}

static lg_tensor *ones(int nd, const int64_t *shape) { return lg_full(nd, shape, 1.0f); }

/*** lg.zeros(d1, d2, ...) -> Tensor
 * A tensor of zeros; the shape is given as sizes or as one list
 * (lg.zeros{2, 3}).  Sizes must be non-negative integers, at most 8 dims.
 * @function lg.zeros
 * @usage local x = lg.zeros(2, 3)
 * local y = lg.zeros{4}
 */
static int l_zeros (lua_State *L) { return create(L, "zeros", lg_zeros); }
/*** lg.ones(d1, d2, ...) -> Tensor
 * A tensor of ones; the shape as in lg.zeros.
 * @function lg.ones
 * @usage local x = lg.ones(64, 1)
 */
static int l_ones (lua_State *L) { return create(L, "ones", ones); }
/*** lg.rand(d1, d2, ...) -> Tensor
 * Uniform samples in [0, 1) from the global generator (lg.manual_seed); the
 * shape as in lg.zeros.
 * @function lg.rand
 * @usage lg.manual_seed(1)
 * local u = lg.rand(16, 2)
 */
static int l_rand (lua_State *L) { return create(L, "rand", lg_rand); }
/*** lg.randn(d1, d2, ...) -> Tensor
 * Standard normal samples N(0, 1) from the global generator (lg.manual_seed);
 * the shape as in lg.zeros.
 * @function lg.randn
 * @usage local z = lg.randn(64, 100)   -- a batch of GAN noise
 */
static int l_randn (lua_State *L) { return create(L, "randn", lg_randn); }

/*** lg.full(shape, v) -> Tensor
 * A tensor of shape (a list, or one size for a 1-D tensor) filled with the
 * number v.
 * @function lg.full
 * @usage local x = lg.full({2, 2}, 0.9)
 * local y = lg.full(5, -1)
 */
/* lg.full(shape, v): shape is a table or a single size. */
static int l_full (lua_State *L) {
  int64_t shape[LG_MAXDIM];
  float v = lgL_checkfloat(L, 2);
  int nd;
  lg_tensor **r;
  lua_settop(L, 1);
  nd = lgL_checkshape(L, 1, shape, "full", 0);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_full(nd, shape, v));
}

static int like(lua_State *L, float v) {
  lg_tensor *x, **r;
  lgL_checktensor(L, 1);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_full(x->ndim, x->shape, v));
}

/*** lg.zeros_like(x) -> Tensor
 * A new tensor of zeros with x's shape (no graph, no grad).
 * @function lg.zeros_like
 * @usage local g = lg.zeros_like(lg.randn(3, 4))
 */
static int l_zeros_like (lua_State *L) { return like(L, 0.0f); }
/*** lg.ones_like(x) -> Tensor
 * A new tensor of ones with x's shape (no graph, no grad).
 * @function lg.ones_like
 * @usage local t = lg.ones_like(lg.randn(3, 4))
 */
static int l_ones_like (lua_State *L) { return like(L, 1.0f); }

/*** lg.linspace(start, stop, steps) -> Tensor
 * steps values evenly spaced from start to stop, both included
 * (torch.linspace; computed in double, and the second half counted back
 * from stop, so that the last value is stop exactly).  Walks in latent space are
 * lg.linspace(0, 1, n):view(n, 1) * (z1 - z0) + z0.
 * @function lg.linspace
 * @usage local t = lg.linspace(-1, 1, 5)   -- -1, -0.5, 0, 0.5, 1
 */
static int l_linspace (lua_State *L) {
  lua_Number a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  lua_Integer steps = lgL_checkintrange(L, 3, "linspace", "steps", 0, (lua_Integer)1 << 40);
  int64_t n = (int64_t)steps;
  lg_tensor **r;
  float *d;
  if (!isfinite(a) || !isfinite(b)) return luaL_error(L, "linspace: start and stop must be finite");
  r = lgL_newslot(L);
  lgL_settensor(L, r, lg_empty(1, &n));
  d = lg_data(*r);
  lua_Number step = n > 1 ? (b - a) / (lua_Number)(n - 1) : 0;
  for (int64_t i = 0; i < n; i++)   /* one step: start, as torch */
    d[i] = (float)(n == 1 || i < n / 2 ? a + step * (lua_Number)i : b - step * (lua_Number)(n - 1 - i));
  return 1;
}

/*** lg.arange([start,] stop [, step]) -> Tensor
 * 1-D tensor of the values start, start + step, ... while below stop (above it
 * for a negative step), as numpy: arange(n) is 0 .. n-1, start defaults to 0
 * and step to 1.  Raises for a zero or non-finite step and for non-finite
 * bounds.
 * @function lg.arange
 * @usage local i = lg.arange(5)          -- 0, 1, 2, 3, 4
 * local t = lg.arange(1, 2, 0.25)  -- 1, 1.25, 1.5, 1.75
 */
/* numpy semantics: arange(n) is 0, 1, .., n-1; arange(a, b[, step]) is
** a, a+step, a+2 step, .. while below b (above b for a negative step), that
** is ceil((b - a) / step) values, each computed in double as a + i*step. */
static int l_arange (lua_State *L) {
  lua_Number a = 0, b, step = 1, count;
  int64_t n;
  lg_tensor **r;
  float *d;
  if (lua_isnoneornil(L, 2)) {
    b = luaL_checknumber(L, 1);
  } else {
    a = luaL_checknumber(L, 1);
    b = luaL_checknumber(L, 2);
    step = luaL_optnumber(L, 3, 1);
  }
  if (step == 0 || !isfinite(step)) return luaL_error(L, "arange: step must be a nonzero number");
  if (!isfinite(a) || !isfinite(b)) return luaL_error(L, "arange: bounds must be finite");
  count = ceil((b - a) / step);
  if (count < 0) count = 0;
  if (count > (lua_Number)((int64_t)1 << 40))
    return luaL_error(L, "arange: %f elements is too many", count);
  n = (int64_t)count;
  r = lgL_newslot(L);
  lgL_settensor(L, r, lg_empty(1, &n));
  d = lg_data(*r);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(a + (lua_Number)i * step);
  return 1;
}

/*** lg.manual_seed(seed)
 * Seeds the global random generator used by lg.rand, lg.randn, lg.randperm,
 * lg.dropout and the initializers, so that a run is reproducible.  seed is an
 * integer.
 * @function lg.manual_seed
 * @usage lg.manual_seed(42)
 */
static int l_manual_seed (lua_State *L) {
  lg_manual_seed((uint64_t)luaL_checkinteger(L, 1));
  return 0;
}

/*** lg.is_tensor(v) -> boolean
 * True when v is a tensor (also a freed one), false for any other value.
 * @function lg.is_tensor
 * @usage assert(lg.is_tensor(lg.zeros(1)) and not lg.is_tensor({}))
 */
static int l_is_tensor (lua_State *L) {
  lua_pushboolean(L, toslot(L, 1) != NULL);
  return 1;
}

/*** lg.memory() -> {live, peak, cached, allocated_total}
 * Tensor memory in bytes: held by live tensors, the peak of that, kept in the
 * allocator's cache for reuse, and allocated since the start.  For watching a
 * training loop's footprint.
 * @function lg.memory
 * @usage local m = lg.memory()
 * print(("%.1f MB live"):format(m.live / 2^20))
 */
/* lg.memory(): bytes held by live tensors, their peak, and the pool's cache. */
static int l_memory (lua_State *L) {
  lg_memstats m = lg_memory();
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)m.bytes_live);
  lua_setfield(L, -2, "live");
  lua_pushinteger(L, (lua_Integer)m.bytes_peak);
  lua_setfield(L, -2, "peak");
  lua_pushinteger(L, (lua_Integer)m.bytes_cached);
  lua_setfield(L, -2, "cached");
  lua_pushinteger(L, (lua_Integer)m.bytes_allocated_total);
  lua_setfield(L, -2, "allocated_total");
  return 1;
}

/*** lg.set_num_threads(n)
 * Sets the number of worker threads of the numeric core (1 .. 1024); results
 * do not depend on it.
 * @function lg.set_num_threads
 * @usage lg.set_num_threads(2)
 */
static int l_set_num_threads (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 1024, 1, "thread count must be in 1..1024");
  lg_set_num_threads((int)n);
  return 0;
}

/*** lg.get_num_threads() -> integer
 * The number of worker threads the numeric core uses.
 * @function lg.get_num_threads
 * @usage print(lg.get_num_threads())
 */
static int l_get_num_threads (lua_State *L) {
  lua_pushinteger(L, lg_get_num_threads());
  return 1;
}

/* The non-empty list of tensors at arg, read raw (no __len, no __index) and
** its length once, into a scratch userdata; *n gets its length and *slot
** the result slot pushed after it (the top of the stack).  The pointers are
** taken after both allocations and stay valid until the next one
** (luagan.h).  lg.cat and lg.stack. */
lg_tensor **lgL_checktensorlist(lua_State *L, int arg, const char *op, int *n,
                                lg_tensor ***slot) {
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_Unsigned len = lua_rawlen(L, arg);
  if (len == 0) luaL_error(L, "%s: needs at least one tensor, got an empty list", op);
  if (len > INT_MAX) luaL_error(L, "%s: %I tensors is too many", op, (lua_Integer)len);
  *n = (int)len;
  lg_tensor **ts = (lg_tensor **)lua_newuserdatauv(L, (size_t)len * sizeof *ts, 0);
  *slot = lgL_newslot(L);
  for (int i = 0; i < *n; i++) {
    lua_rawgeti(L, arg, i + 1);
    ts[i] = lgL_totensor(L, lua_gettop(L));   /* the list keeps it alive */
    if (ts[i] == NULL)
      luaL_error(L, "%s: element %d of the list is a %s, expected a tensor", op, i + 1,
                 luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  return ts;
}

/*** lg.cat({t1, t2, ...} [, d]) -> Tensor
 * Joins tensors along dim d (1-based, negative counts from the end; default
 * 1).  All sizes but d's must agree; 0-dim tensors and an empty list raise.
 * Differentiable.
 * Shapes: {[N1, C], [N2, C]}, d = 1 -> [N1 + N2, C].
 * @function lg.cat
 * @usage local x = lg.cat({lg.zeros(2, 3), lg.ones(4, 3)})     -- [6, 3]
 * local y = lg.cat({lg.zeros(2, 3), lg.ones(2, 1)}, 2)  -- [2, 4]
 */
/* lg.cat({a, b, ...}, d = 1).  The list is read raw (no __len, no __index),
** its length once, and the pointers after the last allocation. */
static int l_cat (lua_State *L) {
  lg_tensor **ts, **r;
  int n, dim, i;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  ts = lgL_checktensorlist(L, 1, "cat", &n, &r);
  for (i = 0; i < n; i++)   /* here: the core would name dim 0 */
    if (ts[i]->ndim == 0)
      return luaL_error(L, "cat: tensor %d is 0-dim and cannot be joined (view it as [1])", i + 1);
  dim = lgL_optdim(L, 2, ts[0], "cat", 0);
  return lgL_settensor(L, r, lg_cat(ts, n, dim));
}

/* }====================================================== */

/* {====================================================== access */

/*** x:size([d]) -> {integer, ...} | integer
 * The shape of x as a list, or the size of dim d (1-based; negative counts
 * from the end).
 * @function Tensor:size
 * @usage local x = lg.zeros(2, 3)
 * print(x:size(2), x:size(-1), #x:size())   --> 3  3  2
 */
static int t_size (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) pushshape(L, t);
  else lua_pushinteger(L, (lua_Integer)t->shape[lgL_checkdim(L, 2, t, "size")]);
  return 1;
}

/*** x:dim() -> integer
 * The number of dims of x (as x.ndim).
 * @function Tensor:dim
 * @usage assert(lg.zeros(2, 3, 4):dim() == 3)
 */
static int t_dim (lua_State *L) {
  lua_pushinteger(L, lgL_checktensor(L, 1)->ndim);
  return 1;
}

/*** x:numel() -> integer
 * The number of elements of x (the product of its sizes).
 * @function Tensor:numel
 * @usage assert(lg.zeros(2, 3):numel() == 6)
 */
static int t_numel (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lgL_checktensor(L, 1)->numel);
  return 1;
}

/*** x:item() -> number
 * The value of a tensor with exactly one element (of any shape), as a Lua
 * number; raises naming the shape otherwise.
 * @function Tensor:item
 * @usage local loss = lg.mse(lg.ones(3), 0)
 * print(loss:item())   --> 1.0
 */
static int t_item (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  char buf[160];
  if (t->numel != 1)
    return luaL_error(L, "item: tensor of shape %s has %I elements, expected exactly one",
                      lg_shape_str(t, buf, sizeof buf), (lua_Integer)t->numel);
  lua_pushnumber(L, (lua_Number)lg_item(t));
  return 1;
}

/* t must be pinned (see t_totable): every table allocates. */
static void pushtable(lua_State *L, const lg_tensor *t, int d, int64_t off) {
  const float *base = t->storage->data;
  int64_t n = t->shape[d];
  lua_createtable(L, n < INT32_MAX ? (int)n : INT32_MAX, 0);
  for (int64_t i = 0; i < n; i++) {
    int64_t o = off + i * t->stride[d];
    if (d == t->ndim - 1) lua_pushnumber(L, (lua_Number)base[o]);
    else pushtable(L, t, d + 1, o);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/*** x:totable() -> table | number
 * The values of x as nested Lua lists (1-based, outermost dim first), or a
 * number for a 0-dim tensor.
 * @function Tensor:totable
 * @usage local t = lg.tensor{{1, 2}, {3, 4}}:totable()
 * print(t[2][1])   --> 3.0
 */
/* x:totable(): nested tables of numbers (a number for a 0-dim tensor). */
static int t_totable (lua_State *L) {
  lg_tensor *t, **pin;
  lgL_checktensor(L, 1);
  lua_settop(L, 1);
  pin = lgL_newslot(L);   /* a reference of our own: see t_tostring */
  t = lgL_checktensor(L, 1);
  lg_retain(t);
  *pin = t;
  if (t->ndim == 0) lua_pushnumber(L, (lua_Number)lg_item(t));
  else pushtable(L, t, 0, t->offset);
  return 1;
}

/*** x:is_contiguous() -> boolean
 * True when x's elements are laid out densely in row-major order (views such
 * as transpose are not); x:view needs a contiguous tensor.
 * @function Tensor:is_contiguous
 * @usage assert(not lg.zeros(2, 3):t():is_contiguous())
 */
static int t_is_contiguous (lua_State *L) {
  lua_pushboolean(L, lg_is_contiguous(lgL_checktensor(L, 1)));
  return 1;
}

/* }====================================================== */

/* {====================================================== views and copies */

/* x:view(...), x:reshape(...), x:expand(...): a shape (varargs or a table,
** -1 allowed) and the core function that applies it. */
typedef lg_tensor *(*reshape_fn)(lg_tensor *t, int ndim, const int64_t *shape);

static int to_shape(lua_State *L, const char *op, reshape_fn f) {
  int64_t shape[LG_MAXDIM];
  lg_tensor *t, **r;
  int nd;
  lgL_checktensor(L, 1);
  nd = lgL_checkshape(L, 2, shape, op, 1);
  r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, f(t, nd, shape));
}

/*** x:view(d1, d2, ...) -> Tensor
 * A view of x with a new shape and the same elements, sharing its storage;
 * one size may be -1 (inferred).  The shape is given as sizes or as one list.
 * Raises when the element count differs or x is not contiguous (use reshape).
 * Also lg.view(x, ...).  Differentiable.
 * Shapes: [N, C, H, W] -> view(N, -1) -> [N, C*H*W].
 * @function Tensor:view
 * @usage local x = lg.randn(8, 1, 28, 28)
 * local flat = x:view(8, -1)   -- [8, 784]
 */
static int t_view (lua_State *L) { return to_shape(L, "view", lg_view); }
/*** x:reshape(d1, d2, ...) -> Tensor
 * As x:view, but copies when x is not contiguous, so that it works on any
 * tensor.  Also lg.reshape(x, ...).  Differentiable.
 * @function Tensor:reshape
 * @usage local y = lg.randn(3, 4):t():reshape(12)
 */
static int t_reshape (lua_State *L) { return to_shape(L, "reshape", lg_reshape); }
/*** x:expand(d1, d2, ...) -> Tensor
 * A view of x broadcast to a larger shape without copying: size-1 dims are
 * repeated, new dims are added in front; -1 keeps a size.  Differentiable
 * (the gradient is summed back).
 * Shapes: [1, C] -> expand(N, C) -> [N, C].
 * @function Tensor:expand
 * @usage local b = lg.ones(1, 3):expand(4, 3)
 */
static int t_expand (lua_State *L) { return to_shape(L, "expand", lg_expand); }

/*** x:t() -> Tensor
 * The transpose of a 2-D tensor, as a view (raises for other dims; use
 * x:transpose(a, b)).  Differentiable.
 * Shapes: [M, N] -> [N, M].
 * @function Tensor:t
 * @usage local wt = lg.randn(3, 5):t()   -- [5, 3]
 */
static int t_t (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1), **r;
  char buf[160];
  if (t->ndim != 2)
    return luaL_error(L, "t: expects a 2-D tensor, got shape %s (use transpose(a, b))",
                      lg_shape_str(t, buf, sizeof buf));
  r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_transpose(t, 0, 1));
}

/*** x:transpose(a, b) -> Tensor
 * A view of x with dims a and b (1-based; negative counts from the end)
 * swapped.  Also lg.transpose(x, a, b).  Differentiable.
 * @function Tensor:transpose
 * @usage local y = lg.randn(2, 3, 4):transpose(1, 3)   -- [4, 3, 2]
 */
static int t_transpose (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  int a = lgL_checkdim(L, 2, t, "transpose"), b = lgL_checkdim(L, 3, t, "transpose");
  lg_tensor **r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_transpose(t, a, b));
}

/*** x:permute(d1, d2, ...) -> Tensor
 * A view of x with its dims reordered: result dim i is x's dim d_i (1-based,
 * as a list or as arguments; each dim exactly once).  Also lg.permute.
 * Differentiable.
 * Shapes: [N, H, W, C] -> permute(1, 4, 2, 3) -> [N, C, H, W].
 * @function Tensor:permute
 * @usage local nchw = lg.zeros(8, 32, 32, 3):permute(1, 4, 2, 3)
 */
/* x:permute(3, 1, 2) or x:permute{3, 1, 2} */
static int t_permute (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1), **r;
  int perm[LG_MAXDIM], n, i, j, istable = lua_type(L, 2) == LUA_TTABLE;
  char buf[160];
  n = istable ? (lua_rawlen(L, 2) > LG_MAXDIM ? LG_MAXDIM + 1 : (int)lua_rawlen(L, 2))
              : lua_gettop(L) - 1;
  if (n != t->ndim)
    return luaL_error(L, "permute: shape %s has %d dims, got an order of %d",
                      lg_shape_str(t, buf, sizeof buf), t->ndim, n);
  for (i = 0; i < n; i++) {
    lua_Integer d;
    if (istable) {
      lua_rawgeti(L, 2, i + 1);
      d = shape_entry(L, i, "permute");
      lua_pop(L, 1);
    } else {
      d = luaL_checkinteger(L, i + 2);
    }
    perm[i] = lgL_normdim(L, d, t, "permute", 0);
    for (j = 0; j < i; j++)
      if (perm[j] == perm[i])
        return luaL_error(L, "permute: dim %d appears twice in the order", perm[i] + 1);
  }
  r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_permute(t, perm));
}

/*** x:narrow(d, start, len) -> Tensor
 * A view of len consecutive slices of x along dim d from position start (both
 * 1-based; a negative start counts from the end).  Raises when the range
 * leaves the dim.  Also lg.narrow(x, d, start, len).  Differentiable.
 * Shapes: [N, C] -> narrow(1, s, k) -> [k, C].
 * @function Tensor:narrow
 * @usage local x = lg.arange(10):view(5, 2)
 * local rows = x:narrow(1, 2, 3)   -- rows 2, 3, 4
 */
/* x:narrow(d, start, len): start is 1-based; a negative start counts from the end. */
static int t_narrow (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1), **r;
  int d = lgL_checkdim(L, 2, t, "narrow");
  lua_Integer start = luaL_checkinteger(L, 3), len = luaL_checkinteger(L, 4);
  lua_Integer size = (lua_Integer)t->shape[d], s0 = start < 0 ? start + size + 1 : start;
  char buf[160];
  /* len > size - (s0 - 1), not s0 - 1 + len > size: len may be near maxinteger */
  if (s0 < 1 || s0 > size + 1 || len < 0 || len > size - (s0 - 1))
    return luaL_error(L, "narrow: start %I and length %I out of range for dim %d of size %I "
                      "in shape %s", start, len, d + 1, size, lg_shape_str(t, buf, sizeof buf));
  r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_narrow(t, d, s0 - 1, len));
}

/*** x:squeeze([d]) -> Tensor
 * A view of x without dim d (1-based) when its size is 1 (unchanged
 * otherwise), or without every size-1 dim when d is omitted.  Also
 * lg.squeeze.  Differentiable.
 * @function Tensor:squeeze
 * @usage local y = lg.zeros(4, 1, 3):squeeze()    -- [4, 3]
 * local z = lg.zeros(4, 1):squeeze(2)          -- [4]
 */
/* x:squeeze(d) removes dim d if its size is 1; x:squeeze() removes all size-1 dims. */
static int t_squeeze (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1), **r, *cur;
  int d;
  if (!lua_isnoneornil(L, 2)) {
    d = lgL_checkdim(L, 2, t, "squeeze");
    r = lgL_newslot(L);
    t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
    return lgL_settensor(L, r, lg_squeeze(t, d));
  }
  r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);
  cur = t;
  lg_retain(cur);
  for (d = t->ndim - 1; d >= 0 && cur; d--) {
    if (t->shape[d] == 1) {
      lg_tensor *next = lg_squeeze(cur, d);
      lg_release(cur);
      cur = next;
    }
  }
  return lgL_settensor(L, r, cur);
}

/*** x:unsqueeze(d) -> Tensor
 * A view of x with a new size-1 dim at position d (1 .. x.ndim + 1; negative
 * counts from the end).  Also lg.unsqueeze.  Differentiable.
 * Shapes: [N] -> unsqueeze(2) -> [N, 1].
 * @function Tensor:unsqueeze
 * @usage local col = lg.arange(4):unsqueeze(2)   -- [4, 1]
 */
static int t_unsqueeze (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  int d = lgL_normdim(L, luaL_checkinteger(L, 2), t, "unsqueeze", 1);
  lg_tensor **r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_unsqueeze(t, d));
}

/*** x:contiguous() -> Tensor
 * x itself when it is contiguous, else a row-major copy.  Differentiable.
 * @function Tensor:contiguous
 * @usage local y = lg.randn(3, 4):t():contiguous()
 */
static int t_contiguous (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  lg_tensor **r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_contiguous(t));
}

/*** x:clone() -> Tensor
 * A copy of x with storage of its own; in the graph (the gradient flows back
 * to x).  Also lg.clone(x).
 * @function Tensor:clone
 * @usage local snapshot = lg.randn(3):clone()
 */
static int t_clone (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  lg_tensor **r = lgL_newslot(L);
  t = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_clone(t));
}

/*** x:copy_(src) -> x
 * Writes src (a tensor broadcastable to x's shape, or a number) into x in
 * place and returns x.  Not recorded in the graph: raises for a tensor that
 * requires grad while grad mode is on (wrap the update in lg.no_grad).
 * @function Tensor:copy_
 * @usage local ema = lg.zeros(3)
 * ema:copy_(lg.ones(3))
 */
/* x:copy_(src): src (a tensor broadcastable to x, or a number) into x; returns x. */
static int t_copy_ (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1), *src = lgL_totensor(L, 2);
  if (src == NULL) {
    float v;
    if (lua_type(L, 2) != LUA_TNUMBER) return luaL_typeerror(L, 2, "tensor or number");
    v = lgL_checkfloat(L, 2);
    check_inplace(L, t, "copy_");
    lg_fill_(t, v);
  } else {
    check_inplace(L, t, "copy_");
    if (lg_copy_(t, src)) return lgL_coreerror(L);
  }
  lua_settop(L, 1);
  return 1;
}

/*** x:fill_(v) -> x
 * Sets every element of x to the number v in place and returns x; refuses
 * tensors that require grad while grad mode is on, as x:copy_.
 * @function Tensor:fill_
 * @usage local x = lg.zeros(2, 2):fill_(0.5)
 */
static int t_fill_ (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  float v = lgL_checkfloat(L, 2);
  check_inplace(L, t, "fill_");
  lg_fill_(t, v);
  lua_settop(L, 1);
  return 1;
}

/*** x:zero_() -> x
 * Sets every element of x to 0 in place and returns x; refuses tensors that
 * require grad while grad mode is on, as x:copy_.
 * @function Tensor:zero_
 * @usage local acc = lg.ones(4):zero_()
 */
static int t_zero_ (lua_State *L) {
  lg_tensor *t = lgL_checktensor(L, 1);
  check_inplace(L, t, "zero_");
  lg_fill_(t, 0.0f);
  lua_settop(L, 1);
  return 1;
}

/* }====================================================== */

const luaL_Reg lgL_tensor_meta[] = {
  {"__gc", t_gc},
  {"__close", t_gc},
  {"__newindex", t_newindex},
  {"__tostring", t_tostring},
  {"__len", t_len},
  {NULL, NULL}
};

const luaL_Reg lgL_tensor_methods[] = {
  {"size", t_size},
  {"dim", t_dim},
  {"numel", t_numel},
  {"item", t_item},
  {"totable", t_totable},
  {"is_contiguous", t_is_contiguous},
  {"view", t_view},
  {"reshape", t_reshape},
  {"expand", t_expand},
  {"t", t_t},
  {"transpose", t_transpose},
  {"permute", t_permute},
  {"narrow", t_narrow},
  {"squeeze", t_squeeze},
  {"unsqueeze", t_unsqueeze},
  {"contiguous", t_contiguous},
  {"clone", t_clone},
  {"copy_", t_copy_},
  {"fill_", t_fill_},
  {"zero_", t_zero_},
  {NULL, NULL}
};

const luaL_Reg lgL_tensor_funcs[] = {
  {"tensor", l_tensor},
  {"zeros", l_zeros},
  {"ones", l_ones},
  {"full", l_full},
  {"rand", l_rand},
  {"randn", l_randn},
  {"zeros_like", l_zeros_like},
  {"ones_like", l_ones_like},
  {"arange", l_arange},
  {"linspace", l_linspace},
  {"manual_seed", l_manual_seed},
  {"is_tensor", l_is_tensor},
  {"memory", l_memory},
  {"set_num_threads", l_set_num_threads},
  {"get_num_threads", l_get_num_threads},
  {"cat", l_cat},
  {"view", t_view},
  {"reshape", t_reshape},
  {"transpose", t_transpose},
  {"permute", t_permute},
  {"narrow", t_narrow},
  {"squeeze", t_squeeze},
  {"unsqueeze", t_unsqueeze},
  {"clone", t_clone},
  {NULL, NULL}
};
