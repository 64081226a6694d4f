/*
** Layer functions: convolutions, batch norm, pooling, upsampling, dropout.
** Options come as tables ({stride=2, padding=1}); a size is a number or a
** {h, w} pair.  All numerics are the core's.
*/
#include "luagan.h"

#include <limits.h>
#include <string.h>

/* An int option that is a number or an {h, w} pair, in min..INT_MAX;
** absent -> def.  Its __index may run Lua code: read options before taking
** tensor pointers (luagan.h). */
static void pairfield(lua_State *L, int arg, const char *key, int def, int min, int out[2],
                      const char *op) {
  out[0] = out[1] = def;
  if (lua_isnoneornil(L, arg)) return;
  int tp = lua_getfield(L, arg, key);
  if (tp == LUA_TTABLE) {
    if (lua_rawlen(L, -1) != 2)
      luaL_error(L, "%s: %s must be an integer or a pair {h, w}, got a table of %I entries", op,
                 key, (lua_Integer)lua_rawlen(L, -1));
    for (int i = 0; i < 2; i++) {
      lua_rawgeti(L, -1, i + 1);
      out[i] = (int)lgL_checkintrange(L, -1, op, key, min, INT_MAX);
      lua_pop(L, 1);
    }
  } else if (tp != LUA_TNIL) {
    out[0] = out[1] = (int)lgL_checkintrange(L, -1, op, key, min, INT_MAX);
  }
  lua_pop(L, 1);
}

static void convopts(lua_State *L, int arg, const char *op, int transposed, lg_conv_opts *o) {
  static const char *const plain[] = {"stride", "padding", NULL};
  static const char *const trans[] = {"stride", "padding", "output_padding", NULL};
  lgL_checkoptions(L, arg, op, transposed ? trans : plain);
  pairfield(L, arg, "stride", 1, 1, o->stride, op);
  pairfield(L, arg, "padding", 0, 0, o->padding, op);
  pairfield(L, arg, "output_padding", 0, 0, o->output_padding, op);
}

typedef lg_tensor *(*convfn)(lg_tensor *, lg_tensor *, lg_tensor *, const lg_conv_opts *);

/* The options first, then the result slot, then the pointers: see luagan.h.
** A table third is the options with no bias: conv2d(x, w, {stride = 2}). */
static int conv(lua_State *L, const char *op, int transposed, convfn f) {
  lg_tensor *x, *w, *b, **r;
  lg_conv_opts o;
  if (lua_type(L, 3) == LUA_TTABLE) {
    if (!lua_isnoneornil(L, 4))
      return luaL_error(L, "%s: give the options as the last argument", op);
    lua_settop(L, 3);
    lua_pushnil(L);
    lua_insert(L, 3);   /* x, w, nil, opts */
  }
  lgL_checktensor(L, 1);   /* argument errors before option errors */
  lgL_checktensor(L, 2);
  lgL_opttensor(L, 3);
  convopts(L, 4, op, transposed, &o);
  lua_settop(L, 4);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);
  w = lgL_checktensor(L, 2);
  b = lgL_opttensor(L, 3);
  return lgL_settensor(L, r, f(x, w, b, &o));
}

/*** lg.conv2d(x, w [, b] [, opts]) -> Tensor
 * 2-D convolution (cross-correlation, as PyTorch) of a batch of images with
 * weights in PyTorch's layout; b ([cout]) is optional.  opts.stride (default
 * 1) and opts.padding (zeros, default 0) are each a number or an {h, w} pair.
 * Differentiable to second order (gradient penalties).
 * Shapes: x [N, cin, H, W], w [cout, cin, kh, kw] -> [N, cout, H', W'] with
 * H' = floor((H + 2 padding - kh) / stride) + 1.
 * @function lg.conv2d
 * @usage local x, w = lg.randn(2, 3, 32, 32), lg.randn(64, 3, 4, 4)
 * local y = lg.conv2d(x, w, lg.zeros(64), {stride = 2, padding = 1})   -- [2, 64, 16, 16]
 */
/* lg.conv2d(x, w, b, {stride=, padding=}) */
static int l_conv2d (lua_State *L) { return conv(L, "conv2d", 0, lg_conv2d); }

/*** lg.conv_transpose2d(x, w [, b] [, opts]) -> Tensor
 * Transposed convolution (the gradient of conv2d with respect to its input),
 * the upsampling layer of DCGAN generators (Radford et al. 2016).  Weights in
 * PyTorch's layout [cin, cout, kh, kw]; opts.stride (1), opts.padding (0)
 * and opts.output_padding (0, smaller than stride) are numbers or {h, w}
 * pairs.  Differentiable.
 * Shapes: x [N, cin, H, W] -> [N, cout, H', W'] with
 * H' = (H - 1) stride - 2 padding + kh + output_padding.
 * @function lg.conv_transpose2d
 * @usage local z = lg.randn(2, 100, 1, 1)
 * local w = lg.randn(100, 64, 4, 4)
 * local y = lg.conv_transpose2d(z, w, nil, {stride = 1, padding = 0})   -- [2, 64, 4, 4]
 */
/* lg.conv_transpose2d(x, w, b, {stride=, padding=, output_padding=}) */
static int l_conv_transpose2d (lua_State *L) {
  return conv(L, "conv_transpose2d", 1, lg_conv_transpose2d);
}

static int optbool(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg)) return 0;
  luaL_checktype(L, arg, LUA_TBOOLEAN);
  return lua_toboolean(L, arg);
}

/*** lg.batch_norm(x, running_mean, running_var [, weight] [, bias] [, training] [, momentum] [, eps]) -> Tensor
 * Batch normalization (Ioffe and Szegedy 2015) over the batch (and spatial)
 * dims per channel, with the defaults of torch.nn.functional.batch_norm:
 * training false, momentum 0.1, eps 1e-5.  When training, the batch
 * statistics are used and running_mean / running_var (may be nil) are
 * updated in place with momentum; otherwise the running values are used.
 * weight and bias ([C], optional) scale and shift.  Differentiable.
 * Shapes: x [N, C] or [N, C, H, W], running stats, weight, bias [C] -> x's shape.
 * @function lg.batch_norm
 * @usage local x = lg.randn(16, 8, 4, 4)
 * local rm, rv = lg.zeros(8), lg.ones(8)
 * local y = lg.batch_norm(x, rm, rv, lg.ones(8), lg.zeros(8), true)
 */
/* lg.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps),
** the defaults of torch.nn.functional.batch_norm: training false, 0.1, 1e-5. */
static int l_batch_norm (lua_State *L) {
  lg_tensor *x, *rm, *rv, *w, *b, **r;
  int training;
  float momentum, eps;
  lgL_checktensor(L, 1);
  for (int i = 2; i <= 5; i++) lgL_opttensor(L, i);
  training = optbool(L, 6);
  momentum = lua_isnoneornil(L, 7) ? 0.1f : lgL_checkfloat(L, 7);
  eps = lua_isnoneornil(L, 8) ? 1e-5f : lgL_checkfloat(L, 8);
  lua_settop(L, 8);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  rm = lgL_opttensor(L, 2);
  rv = lgL_opttensor(L, 3);
  w = lgL_opttensor(L, 4);
  b = lgL_opttensor(L, 5);
  return lgL_settensor(L, r, lg_batch_norm(x, rm, rv, w, b, training, momentum, eps));
}

/* lg.avg_pool2d(x, k, {stride=k, padding=0}) and max_pool2d */
static int pool(lua_State *L, const char *op,
                lg_tensor *(*f)(lg_tensor *, int, int, int)) {
  static const char *const valid[] = {"stride", "padding", NULL};
  lg_tensor *x, **r;
  int k, stride[2], padding[2];
  lgL_checktensor(L, 1);
  k = (int)lgL_checkintrange(L, 2, op, "kernel size", 1, 65536);
  lgL_checkoptions(L, 3, op, valid);
  pairfield(L, 3, "stride", k, 1, stride, op);
  pairfield(L, 3, "padding", 0, 0, padding, op);
  if (stride[0] != stride[1] || padding[0] != padding[1])
    luaL_error(L, "%s: stride and padding must be the same for height and width", op);
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the options and the allocation: see luagan.h */
  return lgL_settensor(L, r, f(x, k, stride[0], padding[0]));
}

/*** lg.avg_pool2d(x, k [, opts]) -> Tensor
 * Average pooling over k x k windows; opts.stride defaults to k and
 * opts.padding to 0 (the same for height and width; padding counts as zeros,
 * every window divides by k*k).  Differentiable.
 * Shapes: x [N, C, H, W] -> [N, C, floor((H + 2 padding - k) / stride) + 1, ...].
 * @function lg.avg_pool2d
 * @usage local y = lg.avg_pool2d(lg.randn(1, 3, 8, 8), 2)   -- [1, 3, 4, 4]
 */
static int l_avg_pool2d (lua_State *L) { return pool(L, "avg_pool2d", lg_avg_pool2d); }
/*** lg.max_pool2d(x, k [, opts]) -> Tensor
 * Max pooling over k x k windows; opts.stride defaults to k, opts.padding to
 * 0 (padding at most k / 2).  Differentiable (the gradient goes to each
 * window's maximum).
 * Shapes: x [N, C, H, W] -> [N, C, floor((H + 2 padding - k) / stride) + 1, ...].
 * @function lg.max_pool2d
 * @usage local y = lg.max_pool2d(lg.randn(1, 3, 8, 8), 2, {stride = 2})
 */
static int l_max_pool2d (lua_State *L) { return pool(L, "max_pool2d", lg_max_pool2d); }

/*** lg.upsample_nearest(x, scale) -> Tensor
 * Nearest-neighbour upsampling of the last two dims by an integer scale
 * (1 .. 4096): each pixel becomes a scale x scale block.  Differentiable.
 * Shapes: x [N, C, H, W] -> [N, C, H scale, W scale].
 * @function lg.upsample_nearest
 * @usage local y = lg.upsample_nearest(lg.randn(1, 3, 4, 4), 2)   -- [1, 3, 8, 8]
 */
/* lg.upsample_nearest(x, scale) */
static int l_upsample_nearest (lua_State *L) {
  lg_tensor *x, **r;
  int s;
  lgL_checktensor(L, 1);
  s = (int)lgL_checkintrange(L, 2, "upsample_nearest", "scale", 1, 4096);
  lua_settop(L, 2);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_upsample_nearest(x, s));
}

/*** lg.dropout(x, p [, training]) -> Tensor
 * Inverted dropout: when training (default true), each element is zeroed
 * with probability p (in [0, 1)) and the kept ones are scaled by 1 / (1 - p),
 * so that evaluation needs no rescaling; otherwise x itself.  Uses the global
 * generator.  Differentiable.
 * Shapes: any -> the same.
 * @function lg.dropout
 * @usage local h = lg.dropout(lg.randn(4, 8), 0.5)
 * local same = lg.dropout(h, 0.5, false)
 */
/* lg.dropout(x, p, training=true) */
static int l_dropout (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  float p = lgL_checkfloat(L, 2);
  int training = lua_isnoneornil(L, 3) ? 1 : (luaL_checktype(L, 3, LUA_TBOOLEAN), lua_toboolean(L, 3));
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_dropout(x, p, training));
}

const luaL_Reg lgL_layers_funcs[] = {
  {"conv2d", l_conv2d},
  {"conv_transpose2d", l_conv_transpose2d},
  {"batch_norm", l_batch_norm},
  {"avg_pool2d", l_avg_pool2d},
  {"max_pool2d", l_max_pool2d},
  {"upsample_nearest", l_upsample_nearest},
  {"dropout", l_dropout},
  {NULL, NULL}
};
