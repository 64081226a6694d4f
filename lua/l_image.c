/*
** lg.image: load(path), save(path, x), grid(batch, {nrow=, padding=,
** pad_value=}), resize(x, h, w).  All numerics and all file handling are the
** core's (core/io_image.c); this file checks arguments and converts.
*/
#include "luagan.h"

#include <float.h>
#include <limits.h>
#include <math.h>


/* A number field of the option table at arg; absent -> def.  Its __index
** may run Lua code: read options before taking tensor pointers (luagan.h). */
static float floatfield(lua_State *L, int arg, const char *key, float def, const char *op) {
  float v = def;
  if (lua_isnoneornil(L, arg)) return def;
  int tp = lua_getfield(L, arg, key);
  if (tp == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, -1);
    if (isfinite(n) && fabs(n) > FLT_MAX)
      luaL_error(L, "%s: option '%s' is out of float range, got %f", op, key, n);
    v = (float)n;
  } else if (tp != LUA_TNIL) {
    luaL_error(L, "%s: option '%s' must be a number, got %s", op, key, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

/*** lg.image.load(path) -> Tensor
 * Reads a PNG image into a float tensor with values in [0, 1]: 1 channel for
 * grey, 3 for RGB and palette images (alpha dropped), 16-bit samples as
 * v / 65535.  Raises naming the path for a missing, malformed or oversized
 * file (more than 16384 pixels a side).
 * Shapes: -> [C, H, W], C = 1 or 3.
 * @function lg.image.load
 * @usage local base = os.tmpname()
 * lg.image.save(base .. ".png", lg.rand(3, 8, 8))
 * local img = lg.image.load(base .. ".png")   -- [3, 8, 8]
 * os.remove(base .. ".png"); os.remove(base)
 */
/* lg.image.load(path) -> [C,H,W] in [0,1] */
static int l_load (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_image_load(path));
}

/*** lg.image.save(path, x [, opts])
 * Writes x as an 8-bit PNG (path must end in .png) atomically (temporary
 * file and rename); values are clamped to [0, 1] (map a tanh output with
 * (x + 1) / 2 first).  A batch [N, C, H, W] is tiled first, as
 * lg.image.grid does with opts (nrow = 8, padding = 2, pad_value = 0), like
 * torchvision's save_image.  Not recorded in the graph.
 * Shapes: x [C, H, W] with C = 1 or 3, [H, W], or a batch [N, C, H, W].
 * @function lg.image.save
 * @usage local base = os.tmpname()
 * lg.image.save(base .. ".png", lg.rand(1, 28, 28))
 * lg.image.save(base .. ".png", lg.rand(16, 1, 28, 28), {nrow = 4})   -- a 4 x 4 sheet
 * os.remove(base .. ".png"); os.remove(base)
 */
static const char *const grid_options[] = {"nrow", "padding", "pad_value", NULL};

/* lg.image.save(path, x [, opts]): [C,H,W] (C = 1 or 3), [H,W], or a batch
** [N,C,H,W] gridded with opts first */
static int l_save (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lgL_checkoptions(L, 3, "image.save", grid_options);
  int nrow = (int)lgL_optintfield(L, 3, "nrow", 8, 1, INT_MAX, "image.save");
  int padding = (int)lgL_optintfield(L, 3, "padding", 2, 0, INT_MAX, "image.save");
  float pad_value = floatfield(L, 3, "pad_value", 0.0f, "image.save");
  lua_settop(L, 3);
  lg_tensor **grid = lgL_newslot(L);
  lg_tensor *x = lgL_checktensor(L, 2);   /* after the options and the allocation: see luagan.h */
  if (x->ndim == 4) {
    lgL_puttensor(L, grid, lg_image_grid(x, nrow, padding, pad_value));
    x = *grid;
  }
  if (lg_image_save(path, x)) return lgL_coreerror(L);
  return 0;
}

/*** lg.image.grid(batch [, opts]) -> Tensor
 * Tiles a batch of images into one image, opts.nrow (default 8) per row,
 * separated by opts.padding pixels (2) of opts.pad_value (0), like
 * torchvision's make_grid; for sample sheets.  Not recorded in the graph.
 * Shapes: batch [N, C, H, W] -> [C, rows (H + p) + p, nrow (W + p) + p],
 * rows = ceil(N / nrow).
 * @function lg.image.grid
 * @usage local sheet = lg.image.grid(lg.rand(64, 1, 28, 28), {nrow = 8})
 */
/* lg.image.grid(batch, {nrow=8, padding=2, pad_value=0}) -> [C,H',W'] */
static int l_grid (lua_State *L) {
  lg_tensor *batch, **r;
  lgL_checktensor(L, 1);
  lgL_checkoptions(L, 2, "image.grid", grid_options);
  int nrow = (int)lgL_optintfield(L, 2, "nrow", 8, 1, INT_MAX, "image.grid");
  int padding = (int)lgL_optintfield(L, 2, "padding", 2, 0, INT_MAX, "image.grid");
  float pad_value = floatfield(L, 2, "pad_value", 0.0f, "image.grid");
  lua_settop(L, 2);
  r = lgL_newslot(L);
  batch = lgL_checktensor(L, 1);   /* after the options and the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_image_grid(batch, nrow, padding, pad_value));
}

/*** lg.image.resize(x, h, w) -> Tensor
 * Resizes the last two dims to h x w: area averaging when shrinking, bilinear
 * (align_corners = false) when growing.  Not recorded in the graph.
 * Shapes: [..., H, W] -> [..., h, w].
 * @function lg.image.resize
 * @usage local small = lg.image.resize(lg.rand(3, 64, 64), 32, 32)
 */
/* lg.image.resize(x, h, w): the last two dims to h x w */
static int l_resize (lua_State *L) {
  lg_tensor *x = lgL_checktensor(L, 1), **r;
  int h = (int)lgL_checkintrange(L, 2, "image.resize", "height", 1, INT_MAX);
  int w = (int)lgL_checkintrange(L, 3, "image.resize", "width", 1, INT_MAX);
  lua_settop(L, 3);
  r = lgL_newslot(L);
  x = lgL_checktensor(L, 1);   /* after the allocation: see luagan.h */
  return lgL_settensor(L, r, lg_image_resize(x, h, w));
}

const luaL_Reg lgL_image_funcs[] = {
  {"load", l_load},
  {"save", l_save},
  {"grid", l_grid},
  {"resize", l_resize},
  {NULL, NULL}
};
