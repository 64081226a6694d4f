/*
** Shape and scan ops from Lua: stack, chunk, split, tile, flip, pad,
** logsumexp, var, std, cumsum, sort, topk.  Numerics are the core's (core/ops_stack.c, ops_scan.c);
** this file reads arguments, counts dims from 1 (negative from the end) in
** every message, and converts positions to 1-based.
**
** Every function reads its options, numbers and list lengths first, then
** allocates every userdata it needs (result slots, scratch), and only then
** takes the tensor pointers: an allocation may run a finalizer that frees a
** tensor the caller passed.  chunk and split return a Lua list of views;
** its slots are made first and filled after the core call.
*/
#include "luagan.h"

#include <limits.h>
#include <string.h>

#define FLOAT_EXACT ((int64_t)1 << 24)   /* floats hold every integer up to this */
#define MAX_PAD ((lua_Integer)1 << 40)

/* {====================================================== helpers */


/* The list of views: a table of n empty slots at the top of the stack,
** filled from out[] (new references) by place_pieces. */
static void new_pieces(lua_State *L, int n) {
  lua_createtable(L, n, 0);
  for (int i = 1; i <= n; i++) {
    lgL_newslot(L);
    lua_rawseti(L, -2, i);
  }
}

/* Moves out[0..n-1] into the slots of the list at idx; calls no Lua code. */
static int place_pieces(lua_State *L, int idx, int n, lg_tensor **out) {
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, idx, i + 1);
    *(lg_tensor **)lua_touserdata(L, -1) = out[i];
    lua_pop(L, 1);
  }
  lua_pushvalue(L, idx);
  lgL_account(L);
  return 1;
}

/* Splits the tensor at arg 1 along dim into the n sizes in scratch (which
** has room for n pointers after the sizes) and returns the list. */
static int split_into(lua_State *L, int dim, int n, int64_t *sizes) {
  lg_tensor **out = (lg_tensor **)(sizes + n);
  new_pieces(L, n);
  int list = lua_gettop(L);
  if (lg_split(lgL_checktensor(L, 1), dim, n, sizes, out)) return lgL_coreerror(L);
  return place_pieces(L, list, n, out);
}

/* Scratch for n sizes and n pointers, as a userdata on the stack. */
static int64_t *new_sizes(lua_State *L, int n) {
  return (int64_t *)lua_newuserdatauv(L, (size_t)n * (sizeof(int64_t) + sizeof(lg_tensor *)), 0);
}

/* }====================================================== */

/* {====================================================== stack, chunk, split */

/*** lg.stack(list, d = 1) -> Tensor
 * Joins tensors of one shape along a new dim d (1..ndim+1, or negative
 * from the end): stacking n tensors of shape [a,b] at d = 1 gives [n,a,b].
 * The list is read raw.  Differentiable.
 * @function lg.stack
 * @usage local batch = lg.stack({x1, x2, x3})   -- [3, ...]
 */
static int l_stack (lua_State *L) {
  lg_tensor **ts, **r;
  int n, dim, i;
  char b1[128], b2[128];
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  ts = lgL_checktensorlist(L, 1, "stack", &n, &r);
  for (i = 1; i < n; i++)
    if (ts[i]->ndim != ts[0]->ndim ||
        memcmp(ts[i]->shape, ts[0]->shape, sizeof(int64_t) * (size_t)ts[0]->ndim))
      return luaL_error(L, "stack: tensor %d has shape %s, tensor 1 has %s (all must match)",
                        i + 1, lg_shape_str(ts[i], b1, sizeof b1),
                        lg_shape_str(ts[0], b2, sizeof b2));
  if (ts[0]->ndim >= LG_MAXDIM)
    return luaL_error(L, "stack: tensors of shape %s would give more than %d dims",
                      lg_shape_str(ts[0], b1, sizeof b1), LG_MAXDIM);
  dim = lua_isnoneornil(L, 2) ? 0 : lgL_normdim(L, luaL_checkinteger(L, 2), ts[0], "stack", 1);
  return lgL_settensor(L, r, lg_stack(ts, n, dim));
}

/* The dim argument at arg (default 1) of the tensor at 1, which must have one. */
static int piece_dim(lua_State *L, int arg, const char *op) {
  lg_tensor *x = lgL_checktensor(L, 1);
  char buf[128];
  if (x->ndim == 0)
    luaL_error(L, "%s: cannot cut a 0-dim tensor (shape %s)", op, lg_shape_str(x, buf, sizeof buf));
  return lgL_optdim(L, arg, x, op, 0);
}

/*** Tensor:chunk(n, d = 1) -> {Tensor...}
 * A list of at most n views along dim d, each ceil(size/n) long but the
 * last (PyTorch's chunk: 5 into 3 gives sizes 2, 2, 1; 6 into 4 gives 2,
 * 2, 2, so fewer than n pieces).  An empty dim gives n empty pieces.
 * Also lg.chunk(x, n, d).  Differentiable (they are narrow views).
 * @function Tensor:chunk
 * @usage local real, fake = table.unpack(batch:chunk(2))
 */
static int t_chunk (lua_State *L) {
  lua_Integer chunks = lgL_checkintrange(L, 2, "chunk", "n", 1, INT_MAX);
  int dim = piece_dim(L, 3, "chunk"), n;
  int64_t size = lgL_checktensor(L, 1)->shape[dim], piece, *sizes;
  piece = size == 0 ? 0 : (size + chunks - 1) / chunks;
  n = size == 0 ? (int)chunks : (int)((size + piece - 1) / piece);
  lua_settop(L, 3);
  sizes = new_sizes(L, n);
  for (int i = 0; i < n; i++) sizes[i] = i < n - 1 ? piece : size - piece * (n - 1);
  return split_into(L, dim, n, sizes);
}

/*** Tensor:split(size_or_sizes, d = 1) -> {Tensor...}
 * A list of views along dim d: with a number, pieces of that size and a
 * shorter last one (PyTorch's split); with a list of sizes, pieces of
 * those sizes, which must add up to the dim's size.  Also lg.split(x, s, d).
 * Differentiable (they are narrow views).
 * @function Tensor:split
 * @usage local mu, logvar = table.unpack(h:split({16, 16}, 2))
 */
static int t_split (lua_State *L) {
  int dim, n;
  int64_t size, *sizes;
  char buf[128];
  lua_settop(L, 3);
  lgL_checktensor(L, 1);
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_Unsigned len = lua_rawlen(L, 2);
    if (len == 0) return luaL_error(L, "split: the list of sizes is empty");
    if (len > INT_MAX) return luaL_error(L, "split: %I sizes is too many", (lua_Integer)len);
    n = (int)len;
    dim = piece_dim(L, 3, "split");
    sizes = new_sizes(L, n);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
      lua_rawgeti(L, 2, i + 1);
      sizes[i] = (int64_t)lgL_checkintrange(L, -1, "split", "size", 0, LG_MAX_NUMEL);
      lua_pop(L, 1);
      if (__builtin_add_overflow(total, sizes[i], &total)) total = INT64_MAX;   /* no match */
    }
    lg_tensor *x = lgL_checktensor(L, 1);
    if (total != x->shape[dim])
      return luaL_error(L, "split: sizes summing to %I do not cover dim %d of size %I in shape %s",
                        (lua_Integer)total, dim + 1, (lua_Integer)x->shape[dim],
                        lg_shape_str(x, buf, sizeof buf));
    return split_into(L, dim, n, sizes);
  }
  if (lua_type(L, 2) != LUA_TNUMBER) return luaL_typeerror(L, 2, "number or list of sizes");
  lua_Integer s = lgL_checkintrange(L, 2, "split", "size", 0, LG_MAX_NUMEL);
  dim = piece_dim(L, 3, "split");
  size = lgL_checktensor(L, 1)->shape[dim];
  if (s == 0 && size > 0)
    return luaL_error(L, "split: size 0 can only split a dim of size 0, dim %d has size %I",
                      dim + 1, (lua_Integer)size);
  int64_t count = size == 0 ? 1 : (size + s - 1) / s;
  if (count > INT_MAX) return luaL_error(L, "split: %I pieces is too many", (lua_Integer)count);
  n = (int)count;
  sizes = new_sizes(L, n);
  for (int i = 0; i < n; i++) sizes[i] = i < n - 1 ? s : size - s * (n - 1);
  return split_into(L, dim, n, sizes);
}

/* }====================================================== */

/* {====================================================== pad */

/*** lg.pad(x, pads, opts) -> Tensor
 * PyTorch's F.pad: pads = {left, right [, top, bottom [, front, back]]}
 * (before/after pairs, the LAST dim first, up to one pair per dim).
 * opts: mode = "constant" (default, fill with value = 0), "reflect" (mirror
 * without repeating the edge; each pad below the dim's size) or
 * "replicate" (repeat the edge).  A negative pad crops.  Also x:pad(...).
 * Differentiable to any order (reflect/replicate sum the gradient of every
 * copy).
 * @function lg.pad
 * @usage local y = lg.pad(img, {1, 1, 1, 1}, {mode = "reflect"})
 */
static int l_pad (lua_State *L) {
  static const char *const valid[] = {"mode", "value", NULL};
  static const char *const modes[] = {"constant", "reflect", "replicate", NULL};
  int64_t pads[2 * LG_MAXDIM];
  lua_Unsigned len;
  lg_pad_mode mode = LG_PAD_CONSTANT;
  float value = 0.0f;
  lg_tensor *x, **r;
  char buf[128];
  lua_settop(L, 3);
  lgL_checktensor(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lgL_checkoptions(L, 3, "pad", valid);
  if (!lua_isnil(L, 3)) {
    if (lua_getfield(L, 3, "mode") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "pad: mode must be a string, got %s", luaL_typename(L, -1));
      int m = -1;
      for (int i = 0; modes[i]; i++)
        if (strcmp(lua_tostring(L, -1), modes[i]) == 0) m = i;
      if (m < 0)
        return luaL_error(L, "pad: unknown mode '%s' (valid: constant, reflect, replicate)",
                          lua_tostring(L, -1));
      mode = (lg_pad_mode)m;
    }
    if (lua_getfield(L, 3, "value") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TNUMBER)
        return luaL_error(L, "pad: value must be a number, got %s", luaL_typename(L, -1));
      value = lgL_checkfloat(L, lua_gettop(L));
      if (mode != LG_PAD_CONSTANT && value != 0.0f)
        return luaL_error(L, "pad: value is only used by mode 'constant', not '%s'",
                          modes[mode]);
    }
    lua_settop(L, 3);
  }
  len = lua_rawlen(L, 2);
  x = lgL_checktensor(L, 1);
  if (len % 2 || len > 2 * (lua_Unsigned)x->ndim)
    return luaL_error(L, "pad: %I pads for shape %s: give pairs (before, after), the last dim "
                      "first, at most %d", (lua_Integer)len, lg_shape_str(x, buf, sizeof buf),
                      2 * x->ndim);
  for (int i = 0; i < (int)len; i++) {
    lua_rawgeti(L, 2, i + 1);
    pads[i] = (int64_t)lgL_checkintrange(L, -1, "pad", "pad", -MAX_PAD, MAX_PAD);
    lua_pop(L, 1);
  }
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_pad(lgL_checktensor(L, 1), (int)len, pads, mode, value));
}

/* }====================================================== */

/* {====================================================== var, std */

/* sqrt(v) with a zero gradient where v is 0, as torch's std: the sqrt runs
** on where(v == 0, 1, v) so that its infinite slope there never meets a
** nonzero gradient, and the outer where puts the 0 back.  Composed of
** differentiable ops, so it differentiates again. */
static lg_tensor *std_of_var(lg_tensor *v) {
  lg_tensor *zero = lg_scalar(0.0f), *one = zero ? lg_scalar(1.0f) : NULL;
  lg_tensor *at0 = one ? lg_eq(v, zero) : NULL, *safe = at0 ? lg_where(at0, one, v) : NULL;
  lg_tensor *root = safe ? lg_sqrt(safe) : NULL, *s = root ? lg_where(at0, zero, root) : NULL;
  lg_release(zero), lg_release(one), lg_release(at0), lg_release(safe), lg_release(root);
  return s;
}

/* x:var([d] [, opts]) and x:std: opts may stand in d's place. */
static int moment(lua_State *L, const char *op, int root) {
  static const char *const valid[] = {"unbiased", "correction", "keepdim", NULL};
  int optarg = lua_type(L, 2) == LUA_TTABLE ? 2 : 3, hasdim = optarg == 3 && !lua_isnoneornil(L, 2);
  lua_Integer corr;
  int keep, dim = 0;
  lg_tensor *x, **r, *v;
  lua_settop(L, 3);
  lgL_checktensor(L, 1);
  if (optarg == 2 && !lua_isnil(L, 3))
    return luaL_error(L, "%s: give the options as the last argument", op);
  lgL_checkoptions(L, optarg, op, valid);
  corr = lgL_optboolfield(L, optarg, "unbiased", 1, op) ? 1 : 0;
  corr = lgL_optintfield(L, optarg, "correction", corr, 0, LG_MAX_NUMEL, op);
  keep = lgL_optboolfield(L, optarg, "keepdim", 0, op);
  x = lgL_checktensor(L, 1);
  if (hasdim) dim = lgL_checkdim(L, 2, x, op);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);
  if (hasdim) v = lg_var_dim(x, dim, corr, keep);
  else v = keep ? lgL_keep_all(lg_var(x, corr), x->ndim) : lg_var(x, corr);
  if (root && v) {
    lg_tensor *s = std_of_var(v);
    lg_release(v);
    v = s;
  }
  return lgL_settensor(L, r, v);
}

/*** Tensor:var([d] [, opts]) -> Tensor
 * Variance along dim d, or of all elements (0-dim) without d.  opts:
 * unbiased = true (divide by n - 1, PyTorch's default; false: by n), or
 * correction = c (divide by max(0, n - c)); keepdim = false.  One element
 * unbiased gives NaN, as torch.  Two passes (mean, then squared
 * deviations), differentiable to any order.  Also lg.var(x, ...).
 * @function Tensor:var
 * @usage local v = x:var(1, {keepdim = true})
 */
static int t_var (lua_State *L) { return moment(L, "var", 0); }

/*** Tensor:std([d] [, opts]) -> Tensor
 * The square root of Tensor:var, same arguments and defaults.  Its
 * gradient is 0 where the std is 0 (a constant input), as torch's.
 * Also lg.std(x, ...).
 * @function Tensor:std
 * @usage local z = (x - x:mean(1, true)) / x:std(1, {keepdim = true})
 */
static int t_std (lua_State *L) { return moment(L, "std", 1); }

/* }====================================================== */

/*** Tensor:logsumexp(d [, keepdim]) -> Tensor
 * log(sum(exp(x))) along dim d, computed as m + log(sum(exp(x - m))) with m
 * the maximum, so that large values do not overflow (torch.logsumexp); an
 * empty dim gives -inf.  keepdim keeps d with size 1.  Differentiable to any
 * order: the gradient is the softmax along d.  Also lg.logsumexp(x, d).
 * Shapes: [N, K] -> logsumexp(2) -> [N].
 * @function Tensor:logsumexp
 * @usage local log_mean_p = logp:logsumexp(2) - math.log(logp:size(2))
 */
static int t_logsumexp (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  int dim = lgL_checkdim(L, 2, x, "logsumexp");
  bool keepdim = lua_toboolean(L, 3);
  lua_settop(L, 2);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_logsumexp(lgL_checktensor(L, 1), dim, keepdim));
}

/*** Tensor:flip(d1, d2, ...) -> Tensor
 * x with the order of its elements reversed along each given dim (numbers
 * or one list; 1-based, negative from the end), a copy (torch.flip).
 * Differentiable.  Also lg.flip(x, ...).
 * Shapes: any -> the same.
 * @function Tensor:flip
 * @usage local mirrored = images:flip(4)   -- left-right, [N, C, H, W]
 */
static int t_flip (lua_State *L) {
  int dims[LG_MAXDIM], n = 0;
  lg_tensor **r;
  lg_tensor *x = lgL_checktensor(L, 1);
  bool list = lua_type(L, 2) == LUA_TTABLE;
  int count = list ? (int)lua_rawlen(L, 2) : lua_gettop(L) - 1;   /* raw: no __len runs */
  if (count < 1) return luaL_error(L, "flip: give the dims to flip (e.g. x:flip(4))");
  if (count > LG_MAXDIM)
    return luaL_error(L, "flip: %d dims for a %d-dim tensor", count, x->ndim);
  for (int i = 0; i < count; i++) {
    if (list) lua_rawgeti(L, 2, i + 1);
    else lua_pushvalue(L, i + 2);
    dims[n++] = lgL_checkdim(L, lua_gettop(L), x, "flip");
    lua_pop(L, 1);
  }
  lua_settop(L, 1);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_flip(lgL_checktensor(L, 1), n, dims));
}

/* {====================================================== cumsum, sort, topk */

/*** Tensor:cumsum(d) -> Tensor
 * Running sums along dim d (accumulated in double): y[i] = x[1] + ... +
 * x[i].  Differentiable to any order (the backward is a running sum from
 * the end).  Also lg.cumsum(x, d).
 * @function Tensor:cumsum
 * @usage local cdf = p:cumsum(2)
 */
static int t_cumsum (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  int dim = lgL_checkdim(L, 2, x, "cumsum");
  lua_settop(L, 2);
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_cumsum(lgL_checktensor(L, 1), dim));
}

/* The dim at arg (default: the last) for sort/topk, whose indices are floats. */
static int order_dim(lua_State *L, int arg, const char *op) {
  lg_tensor *x = lgL_checktensor(L, 1);
  char buf[128];
  if (x->ndim == 0)
    luaL_error(L, "%s: a 0-dim tensor has no dim to order (view it as [1])", op);
  int d = lgL_optdim(L, arg, x, op, x->ndim - 1);
  if (x->shape[d] > FLOAT_EXACT)
    luaL_error(L, "%s: dim %d of shape %s is longer than 2^24, beyond which float indices "
               "are not exact", op, d + 1, lg_shape_str(x, buf, sizeof buf));
  return d;
}

/* Stores values and 1-based indices in the two slots; returns 2. */
static int two_results(lua_State *L, lg_tensor **v, lg_tensor **ix, lg_tensor *val,
                       lg_tensor *idx) {
  if (val == NULL) return lgL_coreerror(L);
  *v = val;
  return lgL_settensor(L, ix, lgL_one_based(idx)) + 1;
}

/*** Tensor:sort([d] [, opts]) -> Tensor, Tensor
 * The values sorted along dim d (default: the last) and their 1-based
 * positions (floats).  opts: descending = false.  Stable: equal values
 * keep their order.  NaN counts as the largest value (last ascending,
 * first descending), as torch.  Values are differentiable (each gradient
 * goes back to the element's position).  Also lg.sort(x, ...).
 * @function Tensor:sort
 * @usage local vals, idx = scores:sort(1, {descending = true})
 */
static int t_sort (lua_State *L) {
  static const char *const valid[] = {"descending", "stable", NULL};
  lg_tensor **v, **ix, *idx = NULL, *val;
  int optarg = lua_type(L, 2) == LUA_TTABLE ? 2 : 3, desc, dim;
  lua_settop(L, 3);
  lgL_checktensor(L, 1);
  lgL_checkoptions(L, optarg, "sort", valid);
  desc = lgL_optboolfield(L, optarg, "descending", 0, "sort");
  lgL_optboolfield(L, optarg, "stable", 1, "sort");   /* always stable */
  dim = order_dim(L, optarg == 2 ? 4 : 2, "sort");
  v = lgL_newslot(L);
  ix = lgL_newslot(L);
  val = lg_sort(lgL_checktensor(L, 1), dim, desc, &idx);
  return two_results(L, v, ix, val, idx);
}

/*** Tensor:topk(k [, d] [, opts]) -> Tensor, Tensor
 * The k largest values along dim d (default: the last) and their 1-based
 * positions, largest first.  opts: largest = true (false: the k smallest,
 * smallest first), sorted = true (the result is always sorted).  Ties go
 * to the earlier position; NaN counts as the largest.  Values are
 * differentiable.  Also lg.topk(x, k, ...).
 * @function Tensor:topk
 * @usage local best, where = logits:topk(5, 2)
 */
static int t_topk (lua_State *L) {
  static const char *const valid[] = {"largest", "sorted", NULL};
  lg_tensor **v, **ix, *idx = NULL, *val, *x;
  int optarg = lua_type(L, 3) == LUA_TTABLE ? 3 : 4, largest, dim;
  lua_Integer k;
  char buf[128];
  lua_settop(L, 4);
  lgL_checktensor(L, 1);
  k = lgL_checkintrange(L, 2, "topk", "k", 0, LG_MAX_NUMEL);
  lgL_checkoptions(L, optarg, "topk", valid);
  largest = lgL_optboolfield(L, optarg, "largest", 1, "topk");
  lgL_optboolfield(L, optarg, "sorted", 1, "topk");
  dim = order_dim(L, optarg == 3 ? 5 : 3, "topk");
  x = lgL_checktensor(L, 1);
  if (k > x->shape[dim])
    return luaL_error(L, "topk: k %I is larger than dim %d of size %I in shape %s", k, dim + 1,
                      (lua_Integer)x->shape[dim], lg_shape_str(x, buf, sizeof buf));
  v = lgL_newslot(L);
  ix = lgL_newslot(L);
  val = lg_topk(lgL_checktensor(L, 1), (int64_t)k, dim, largest, &idx);
  return two_results(L, v, ix, val, idx);
}

/*** Tensor:tile(r1, r2, ...) -> Tensor
 * x repeated r_d times along each dim d, a copy: PyTorch's x.repeat and
 * torch.tile (`repeat` is a Lua keyword).  The repeats are given as numbers
 * or as one list; fewer than x's dims repeat its last dims, more add
 * leading dims of size 1 to x first.  A repeat of 0 gives an empty dim.
 * Also lg.tile(x, ...).  Differentiable (the gradient sums the copies).
 * Shapes: [2, 3] -> tile(2, 1) -> [4, 3]; [3] -> tile(2, 2) -> [2, 6].
 * @function Tensor:tile
 * @usage local labels = lg.tensor{1, 2, 3}:tile(4)   -- 1 2 3 1 2 3 ...
 */
static int t_tile (lua_State *L) {
  int64_t reps[LG_MAXDIM];
  lg_tensor **r;
  int n;
  lgL_checktensor(L, 1);
  n = lgL_checkshape(L, 2, reps, "tile", 0);
  if (n == 0) return luaL_error(L, "tile: give the repeats, one per dim (e.g. x:tile(2, 1))");
  r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_tile(lgL_checktensor(L, 1), n, reps));
}

/* }====================================================== */

#define SHAPEOPS_FUNCS    \
  {"chunk", t_chunk},     \
  {"split", t_split},     \
  {"pad", l_pad},         \
  {"var", t_var},         \
  {"std", t_std},         \
  {"cumsum", t_cumsum},   \
  {"sort", t_sort},       \
  {"topk", t_topk},       \
  {"tile", t_tile},       \
  {"flip", t_flip},       \
  {"logsumexp", t_logsumexp}

const luaL_Reg lgL_shapeops_methods[] = {
  SHAPEOPS_FUNCS,
  {NULL, NULL}
};

const luaL_Reg lgL_shapeops_funcs[] = {
  SHAPEOPS_FUNCS,
  {"stack", l_stack},
  {NULL, NULL}
};
