/*
** Layer functions: convolutions, batch norm, pooling, upsampling, dropout.
** Options come as tables ({stride=2, padding=1}); a size is a number or a
** {h, w} pair.  All numerics are the core's.
*/
#include "luagan.h"

#include <limits.h>
#include <string.h>

/* An int option that is a number or a table of n of them ({h, w} or
** {t, h, w}), in min..INT_MAX; absent -> def.  Its __index may run Lua
** code: read options before taking tensor pointers (luagan.h). */
static void sizesfield(lua_State *L, int arg, const char *key, int def, int min, int n,
                       int *out, const char *op) {
  for (int i = 0; i < n; i++) out[i] = def;
  if (lua_isnoneornil(L, arg)) return;
  int tp = lua_getfield(L, arg, key);
  if (tp == LUA_TTABLE) {
    if (lua_rawlen(L, -1) != (size_t)n)
      luaL_error(L, "%s: %s must be an integer or a %s, got a table of %I entries", op, key,
                 n == 2 ? "pair {h, w}" : "triple {t, h, w}", (lua_Integer)lua_rawlen(L, -1));
    for (int i = 0; i < n; i++) {
      lua_rawgeti(L, -1, i + 1);
      out[i] = (int)lgL_checkintrange(L, -1, op, key, min, INT_MAX);
      lua_pop(L, 1);
    }
  } else if (tp != LUA_TNIL) {
    int v = (int)lgL_checkintrange(L, -1, op, key, min, INT_MAX);
    for (int i = 0; i < n; i++) out[i] = v;
  }
  lua_pop(L, 1);
}

static void pairfield(lua_State *L, int arg, const char *key, int def, int min, int out[2],
                      const char *op) {
  sizesfield(L, arg, key, def, min, 2, out, op);
}

/* stride, padding and (transposed) output_padding, each n ints */
static void convopts(lua_State *L, int arg, const char *op, int transposed, int n, int *stride,
                     int *padding, int *output_padding) {
  static const char *const plain[] = {"stride", "padding", NULL};
  static const char *const trans[] = {"stride", "padding", "output_padding", NULL};
  lgL_checkoptions(L, arg, op, transposed ? trans : plain);
  sizesfield(L, arg, "stride", 1, 1, n, stride, op);
  sizesfield(L, arg, "padding", 0, 0, n, padding, op);
  sizesfield(L, arg, "output_padding", 0, 0, n, output_padding, op);
}

typedef lg_tensor *(*convfn)(lg_tensor *, lg_tensor *, lg_tensor *, const lg_conv_opts *);
typedef lg_tensor *(*conv3fn)(lg_tensor *, lg_tensor *, lg_tensor *, const lg_conv3d_opts *);

/* x, w [, b] [, opts] checked, the options moved to argument 4: a table
** third is the options with no bias, conv2d(x, w, {stride = 2}). */
static void conv_args(lua_State *L, const char *op) {
  if (lua_type(L, 3) == LUA_TTABLE) {
    if (!lua_isnoneornil(L, 4)) luaL_error(L, "%s: give the options as the last argument", op);
    lua_settop(L, 3);
    lua_pushnil(L);
    lua_insert(L, 3);   /* x, w, nil, opts */
  }
  lgL_checktensor(L, 1);   /* argument errors before option errors */
  lgL_checktensor(L, 2);
  lgL_opttensor(L, 3);
}

/* The options first, then the result slot, then the pointers: see luagan.h.
** f2 (2-D) or f3 (3-D) is the op. */
static int conv(lua_State *L, const char *op, int transposed, convfn f2, conv3fn f3) {
  lg_tensor *x, *w, *b, **r;
  lg_conv_opts o2;
  lg_conv3d_opts o3;
  conv_args(L, op);
  if (f3) convopts(L, 4, op, transposed, 3, o3.stride, o3.padding, o3.output_padding);
  else convopts(L, 4, op, transposed, 2, o2.stride, o2.padding, o2.output_padding);
  lua_settop(L, 4);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);
  w = lgL_checktensor(L, 2);
  b = lgL_opttensor(L, 3);
  return lgL_settensor(L, r, f3 ? f3(x, w, b, &o3) : f2(x, w, b, &o2));
}

/* conv2d's act option: "relu" or "leaky_relu" (nil: none). */
static lg_act actfield(lua_State *L, int arg) {
  lg_act act = LG_ACT_NONE;
  const char *s;
  if (lua_getfield(L, arg, "act") != LUA_TNIL) {
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (s && strcmp(s, "relu") == 0) act = LG_ACT_RELU;
    else if (s && strcmp(s, "leaky_relu") == 0) act = LG_ACT_LEAKY;
    else luaL_error(L, "conv2d: act must be \"relu\" or \"leaky_relu\", got %s",
                    s ? s : luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return act;
}

/*** lg.conv2d(x, w [, b] [, opts]) -> Tensor
 * 2-D convolution (cross-correlation, as PyTorch) of a batch of images with
 * weights in PyTorch's layout; b ([cout]) is optional.  opts.stride (default
 * 1) and opts.padding (zeros, default 0) are each a number or an {h, w} pair.
 * opts.act = "relu" or "leaky_relu" (with opts.negative_slope >= 0, default
 * 0.01) applies that activation as the output is written, after adding
 * opts.add (a tensor of the output's shape, say a residual) when given: the
 * values and gradients of (conv2d(...) + add):relu() without more passes
 * over the output (nn.Sequential fuses a Conv2d followed by ReLU or
 * LeakyReLU this way).
 * Differentiable to second order (gradient penalties).
 * Shapes: x [N, cin, H, W], w [cout, cin, kh, kw] -> [N, cout, H', W'] with
 * H' = floor((H + 2 padding - kh) / stride) + 1.
 * @function lg.conv2d
 * @usage local x, w = lg.randn(2, 3, 32, 32), lg.randn(64, 3, 4, 4)
 * local y = lg.conv2d(x, w, lg.zeros(64), {stride = 2, padding = 1})   -- [2, 64, 16, 16]
 * local h = lg.conv2d(x, w, nil, {padding = 1, act = "leaky_relu", negative_slope = 0.2})
 * local r = lg.conv2d(h, lg.randn(64, 64, 3, 3), nil, {padding = 1, add = h, act = "relu"})
 */
/* lg.conv2d(x, w, b, {stride=, padding=, act=, negative_slope=, add=}) */
static int l_conv2d (lua_State *L) {
  static const char *const keys[] = {"stride", "padding", "act", "negative_slope", "add", NULL};
  lg_tensor *x, *w, *b, *add, **r;
  lg_conv_opts o = {{1, 1}, {0, 0}, {0, 0}};
  lg_act act = LG_ACT_NONE;
  float slope = 0.01f;
  conv_args(L, "conv2d");
  lgL_checkoptions(L, 4, "conv2d", keys);
  pairfield(L, 4, "stride", 1, 1, o.stride, "conv2d");
  pairfield(L, 4, "padding", 0, 0, o.padding, "conv2d");
  if (!lua_isnoneornil(L, 4)) {
    act = actfield(L, 4);
    if (lua_getfield(L, 4, "negative_slope") != LUA_TNIL) {
      if (act != LG_ACT_LEAKY)
        return luaL_error(L, "conv2d: negative_slope needs act = \"leaky_relu\"");
      slope = lgL_checkfloat(L, -1);
      if (!(slope >= 0.0f))
        return luaL_error(L, "conv2d: negative_slope must be >= 0 to fuse, got %f",
                          (double)slope);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 4);
  if (lua_isnoneornil(L, 4)) lua_pushnil(L);
  else if (lua_getfield(L, 4, "add") != LUA_TNIL && !lgL_totensor(L, 5))
    return luaL_error(L, "conv2d: add must be a tensor, got %s", luaL_typename(L, 5));
  r = lgL_newslot(L);   /* x, w, b, opts, add, result */
  x = lgL_checktensor(L, 1);
  w = lgL_checktensor(L, 2);
  b = lgL_opttensor(L, 3);
  add = lgL_opttensor(L, 5);
  return lgL_settensor(L, r, act == LG_ACT_NONE && !add
                                 ? lg_conv2d(x, w, b, &o)
                                 : lg_conv2d_act(x, w, b, add, &o, act, slope));
}

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
  return conv(L, "conv_transpose2d", 1, lg_conv_transpose2d, NULL);
}

/*** lg.conv3d(x, w [, b] [, opts]) -> Tensor
 * 3-D convolution (cross-correlation, as PyTorch) of a batch of volumes or
 * clips, the critic layer of video GANs (Vondrick et al. 2016).  Weights in
 * PyTorch's layout; b ([cout]) is optional.  opts.stride (default 1) and
 * opts.padding (zeros, default 0) are each a number or a {t, h, w} triple.
 * Differentiable to second order (gradient penalties).
 * Shapes: x [N, cin, T, H, W], w [cout, cin, kt, kh, kw] -> [N, cout, T', H', W']
 * with T' = floor((T + 2 padding - kt) / stride) + 1, and so on.
 * @function lg.conv3d
 * @usage local x, w = lg.randn(2, 3, 8, 16, 16), lg.randn(32, 3, 4, 4, 4)
 * local y = lg.conv3d(x, w, lg.zeros(32), {stride = 2, padding = 1})   -- [2, 32, 4, 8, 8]
 */
static int l_conv3d (lua_State *L) { return conv(L, "conv3d", 0, NULL, lg_conv3d); }

/*** lg.conv_transpose3d(x, w [, b] [, opts]) -> Tensor
 * Transposed 3-D convolution (the gradient of conv3d with respect to its
 * input), the upsampling layer of the video generator of Vondrick et al.
 * 2016.  Weights in PyTorch's layout [cin, cout, kt, kh, kw]; opts.stride
 * (1), opts.padding (0) and opts.output_padding (0, smaller than stride) are
 * numbers or {t, h, w} triples.  Differentiable to second order.
 * Shapes: x [N, cin, T, H, W] -> [N, cout, T', H', W'] with
 * T' = (T - 1) stride - 2 padding + kt + output_padding, and so on.
 * @function lg.conv_transpose3d
 * @usage local h = lg.randn(2, 64, 2, 4, 4)
 * local y = lg.conv_transpose3d(h, lg.randn(64, 32, 4, 4, 4), nil, {stride = 2, padding = 1})
 * -- [2, 32, 4, 8, 8]
 */
static int l_conv_transpose3d (lua_State *L) {
  return conv(L, "conv_transpose3d", 1, NULL, lg_conv_transpose3d);
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
 * Shapes: x [N, C], [N, C, L], [N, C, H, W] or [N, C, T, H, W], running stats,
 * weight, bias [C] -> x's shape.
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
  {"conv3d", l_conv3d},
  {"conv_transpose3d", l_conv_transpose3d},
  {"batch_norm", l_batch_norm},
  {"avg_pool2d", l_avg_pool2d},
  {"max_pool2d", l_max_pool2d},
  {"upsample_nearest", l_upsample_nearest},
  {"dropout", l_dropout},
  {NULL, NULL}
};
