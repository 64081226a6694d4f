/*
** luaopen_luagan: builds the Tensor metatable and the module table `lg`.
**
** The module table has a metatable whose __index loads the Lua submodules
** (lua/luagan/NAME.lua) on first use, so `lg.nn` works without an explicit
** require; any other missing key is nil.
*/
#include "luagan.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const submodules[] = {
  "nn", "optim", "gan", "data", "image", "experiment", "metrics", "dist", NULL
};

/* __index of the module table: lg.nn -> require("luagan.nn"), cached in lg. */
static int lazy_submodule (lua_State *L) {
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (k == NULL) return 0;
  for (int i = 0; submodules[i]; i++) {
    if (strcmp(k, submodules[i]) == 0) {
      lua_getglobal(L, "require");
      lua_pushfstring(L, "luagan.%s", k);
      lua_call(L, 1, 1);
      lua_pushvalue(L, 2);
      lua_pushvalue(L, -2);
      lua_rawset(L, 1);
      return 1;
    }
  }
  return 0;
}

/* OpenMP's worker threads outlive lua_close.  When this module is a shared
** object loaded by a stock interpreter, Lua dlcloses it at exit, unmapping
** code those threads still run (a crash at exit, seen with lua5.4).  Pinning
** the object with RTLD_NODELETE keeps it mapped until the process ends. */
static void pin_library (void) {
  Dl_info info;
  if (dladdr((void *)pin_library, &info) && info.dli_fname)
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

/* package.searchpath("luagan.nn", package.path) finds a file */
static int lua_half_on_path (lua_State *L) {
  int found;
  if (lua_getglobal(L, "package") != LUA_TTABLE) { lua_pop(L, 1); return 1; }
  lua_getfield(L, -1, "searchpath");
  lua_pushliteral(L, "luagan.nn");
  lua_getfield(L, -3, "path");
  found = lua_pcall(L, 2, 1, 0) != LUA_OK || !lua_isnil(L, -1);  /* no package.path: leave it */
  lua_pop(L, 2);
  return found;
}

/* The Lua half of the module (luagan/nn.lua, ...) is found through
** package.path.  A stock interpreter may load this object from a tree that
** is on its cpath only (LUA_CPATH set, LUA_PATH not); then the Lua files are
** looked for beside the object: <prefix>/lib/lua/5.4/luagan.so has them in
** <prefix>/share/lua/5.4 (make install, a luarocks tree), build/luagan.so in
** lua/ (the source tree).  The first directory holding luagan/nn.lua is
** appended to package.path, where package.searchpath (luagan.doc's
** lookup of its sources) sees it too. */
static void find_lua_half (lua_State *L) {
  static const char *const rel[] = {"/../../../share/lua/" LUA_VDIR, "/../lua", NULL};
  char dir[PATH_MAX], cand[PATH_MAX], real[PATH_MAX], probe[PATH_MAX + 16], *slash;
  Dl_info info;
  if (lua_half_on_path(L)) return;
  if (!dladdr((void *)find_lua_half, &info) || info.dli_fname == NULL) return;
  if (snprintf(dir, sizeof(dir), "%s", info.dli_fname) >= (int)sizeof(dir)) return;
  if ((slash = strrchr(dir, '/')) == NULL) return;
  *slash = '\0';
  for (int i = 0; rel[i]; i++) {
    if (snprintf(cand, sizeof(cand), "%s%s", dir, rel[i]) >= (int)sizeof(cand)) continue;
    if (realpath(cand, real) == NULL) continue;
    snprintf(probe, sizeof(probe), "%s/luagan/nn.lua", real);
    if (access(probe, R_OK) != 0) continue;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s;%s/?.lua;%s/?/init.lua", lua_tostring(L, -1), real, real);
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
    return;
  }
}

LUAMOD_API int luaopen_luagan (lua_State *L) {
  int mt, methods, lg;
  luaL_checkversion(L);
  pin_library();
  find_lua_half(L);
  luaL_newmetatable(L, LG_TENSOR_MT);   /* reused if the module is loaded twice */
  mt = lua_gettop(L);
  lua_pushliteral(L, "tensor");         /* "tensor expected, got tensor" reads better */
  lua_setfield(L, mt, "__name");
  lgL_setfuncs(L, lgL_tensor_meta);
  lgL_setfuncs(L, lgL_ops_meta);
  lgL_setfuncs(L, lgL_compare_meta);    /* __eq: a == b on tensors raises */

  lua_newtable(L);
  methods = lua_gettop(L);
  lgL_setfuncs(L, lgL_tensor_methods);
  lgL_setfuncs(L, lgL_ops_methods);
  lgL_setfuncs(L, lgL_autograd_methods);
  lgL_setfuncs(L, lgL_compare_methods);
  lgL_setfuncs(L, lgL_shapeops_methods);
  lgL_setfuncs(L, lgL_index_methods);
  lua_pushvalue(L, mt);
  lua_pushvalue(L, methods);
  lua_pushcclosure(L, lgL_index, 2);
  lua_setfield(L, mt, "__index");

  lua_newtable(L);
  lg = lua_gettop(L);
  lgL_setfuncs(L, lgL_tensor_funcs);
  lgL_setfuncs(L, lgL_ops_funcs);
  lgL_setfuncs(L, lgL_autograd_funcs);
  lgL_setfuncs(L, lgL_compare_funcs);
  lgL_setfuncs(L, lgL_shapeops_funcs);
  lgL_setfuncs(L, lgL_index_funcs);
  lgL_setfuncs(L, lgL_layers_funcs);
  lgL_setfuncs(L, lgL_io_funcs);
  lgL_setfuncs(L, lgL_optim_funcs);
  lgL_setfuncs(L, lgL_data_funcs);
  lua_newtable(L);
  lgL_setfuncs(L, lgL_image_funcs);
  lua_setfield(L, lg, "image");
  lua_newtable(L);
  lgL_setfuncs(L, lgL_linalg_funcs);
  lua_setfield(L, lg, "linalg");
  lgL_openfs(L); lua_setfield(L, lg, "fs");   /* l_fs.c: atomic writes, locks */
  lgL_openproc(L); lua_setfield(L, lg, "proc");   /* l_proc.c: spawn, wait */
  lgL_opendist(L); lua_setfield(L, lg, "_dist");  /* l_dist.c: MPI, for luagan/dist.lua */
  lua_pushvalue(L, methods);            /* Lua code may add methods here */
  lua_setfield(L, lg, "Tensor");
  lua_pushliteral(L, "luagan 0.1");
  lua_setfield(L, lg, "_VERSION");

  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, lazy_submodule);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, lg);
  return 1;
}
