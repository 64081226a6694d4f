/*
** Internal header of the Lua binding (lua/l_*.c); not part of the core.
**
** A tensor, seen from Lua, is a full userdata holding one `lg_tensor *`: a
** reference owned by the userdata, NULL once the tensor was freed (by
** __close or __gc, which are the same idempotent function).
**
** Memory safety across Lua errors (luaL_error longjmps):
**   1. check every argument first (luaL_check*, lgL_checktensor, ...);
**   2. push the result userdata with an empty payload (lgL_newslot);
**   3. call the core op;
**   4. store its result with lgL_settensor, which raises the core's message
**      when the op failed.
** Between 3 and 4 no Lua function is called, so a core reference can never be
** stranded by a longjmp.  Scratch memory is a userdata too, never malloc.
**
** Speed: every binding function is registered with the Tensor metatable as
** upvalue 1 (lgL_setfuncs), so recognising and creating a tensor costs no
** registry lookup.  A function registered some other way still works, through
** the registry (slower).
*/
#ifndef LUAGAN_H
#define LUAGAN_H

#include <lua.h>
#include <lauxlib.h>

#include "tensor.h"

/* registry key of the Tensor metatable */
#define LG_TENSOR_MT "luagan.Tensor"

/* Charge the collector once this many tensor bytes were allocated since the
** last charge: often enough to keep the resident size flat, rarely enough to
** cost nothing per op. */
#define LG_GC_CHARGE_BYTES ((uint64_t)1 << 20)

/* A full collection runs when live tensor bytes pass a soft limit: the live
** bytes after the previous full collection plus max(this, half of them).
** Needed in generational mode, where charging debt only buys minor
** collections and a tensor that survived two of them (say, a local alive
** across two allocations) waits for a major one that Lua's own tiny heap
** never triggers. */
#define LG_GC_HEADROOM_BYTES ((uint64_t)128 << 20)

/* ---------------------------------------------------------------- tensors */

/* Slow path of lgL_totensor: is the value at idx (absolute) a tensor? */
int lgL_istensor_slow(lua_State *L, int idx);
/* Raises "attempt to use a freed tensor". */
int lgL_freederror(lua_State *L);

/* The tensor at absolute index idx, or NULL when the value is not a tensor.
** Raises when it is a tensor that was freed. */
static inline lg_tensor *lgL_totensor(lua_State *L, int idx) {
  lg_tensor **p = (lg_tensor **)lua_touserdata(L, idx);
  int ok;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  ok = lua_rawequal(L, -1, lua_upvalueindex(1));
  lua_pop(L, 1);
  if (!ok && !lgL_istensor_slow(L, idx)) return NULL;
  if (*p == NULL) lgL_freederror(L);
  return *p;
}

lg_tensor *lgL_checktensor(lua_State *L, int arg);
/* nil or none -> NULL */
lg_tensor *lgL_opttensor(lua_State *L, int arg);

/* Pushes a tensor userdata with an empty payload; see the header comment. */
lg_tensor **lgL_newslot(lua_State *L);

/* Raises the core's last error message. */
int lgL_coreerror(lua_State *L);

extern uint64_t lgL_gc_charged;   /* bytes_allocated_total at the last charge */

/* Out of line: charges the collector, or runs a full collection past the
** soft limit. */
void lgL_charge(lua_State *L, const lg_memstats *m);

/* Tells the collector about tensor bytes allocated since the last charge, so
** that garbage tensors are finalised at the pace their buffers are made. */
static inline void lgL_account(lua_State *L) {
  lg_memstats m = lg_memory();
  if (m.bytes_allocated_total - lgL_gc_charged >= LG_GC_CHARGE_BYTES) lgL_charge(L, &m);
}

/* Stores t (a new reference) in slot, or raises the core error when t is
** NULL.  Returns 1 (the userdata is on the stack) for `return settensor(..)`. */
static inline int lgL_settensor(lua_State *L, lg_tensor **slot, lg_tensor *t) {
  if (t == NULL) return lgL_coreerror(L);
  *slot = t;
  lgL_account(L);
  return 1;
}

/* Pushes a new userdata holding another reference to t (t is not NULL). */
void lgL_pushretained(lua_State *L, lg_tensor *t);

/* ---------------------------------------------------------------- arguments */

/* Normalises a 1-based or negative dim d of a tensor with ndim dims (or
** ndim+1 positions when `extra`, as for unsqueeze) to 0-based; raises
** "op: dim 3 out of range for shape [2,3] (valid: 1..2 or -2..-1)". */
int lgL_normdim(lua_State *L, lua_Integer d, const lg_tensor *t, const char *op, int extra);
int lgL_checkdim(lua_State *L, int arg, const lg_tensor *t, const char *op);
/* nil or none -> def (already 0-based) */
int lgL_optdim(lua_State *L, int arg, const lg_tensor *t, const char *op, int def);

/* A shape given as varargs from `first` to the top, or as one table at
** `first`; none -> 0 dims.  Sizes are integers >= -1 when allow_neg1 (view,
** expand), >= 0 otherwise.  Returns ndim. */
int lgL_checkshape(lua_State *L, int first, int64_t *shape, const char *op, int allow_neg1);

/* Raises "op: unknown option 'x' (valid: a, b)" unless every key of the
** table at arg is one of valid[] (NULL-terminated).  nil or none is fine. */
void lgL_checkoptions(lua_State *L, int arg, const char *op, const char *const valid[]);
/* A boolean field of the option table at arg (which may be nil). */
int lgL_optboolfield(lua_State *L, int arg, const char *key, int def, const char *op);

/* Converts a number argument to float, refusing values a float cannot hold. */
float lgL_checkfloat(lua_State *L, int arg);

/* ---------------------------------------------------------------- registration */

/* Sets the functions of l into the table on top of the stack, each with the
** Tensor metatable as upvalue 1 (it must already be registered). */
void lgL_setfuncs(lua_State *L, const luaL_Reg *l);

/* __index of tensors: upvalues (metatable, methods). */
int lgL_index(lua_State *L);

/* Autograd properties, for __index/__newindex (l_autograd.c). */
int lgL_getgrad(lua_State *L, lg_tensor *t);
void lgL_setgrad(lua_State *L, lg_tensor *t, int validx);
void lgL_setrequiresgrad(lua_State *L, lg_tensor *t, int validx);

/* Function lists, gathered by luaopen_luagan (l_module.c). */
extern const luaL_Reg lgL_tensor_meta[], lgL_tensor_methods[], lgL_tensor_funcs[];
extern const luaL_Reg lgL_ops_meta[], lgL_ops_methods[], lgL_ops_funcs[];
extern const luaL_Reg lgL_autograd_methods[], lgL_autograd_funcs[];
/* l_compare.c: comparisons, where, masks, argmax/argmin/min, rounding */
extern const luaL_Reg lgL_compare_meta[], lgL_compare_methods[], lgL_compare_funcs[];
extern const luaL_Reg lgL_layers_funcs[];   /* l_layers.c: conv, batch_norm, pools, ... */
extern const luaL_Reg lgL_io_funcs[];       /* l_io.c: lg.save, lg.load */
extern const luaL_Reg lgL_optim_funcs[];    /* l_optim.c: fused update steps, clipping */
extern const luaL_Reg lgL_image_funcs[];    /* l_image.c: the lg.image table */
extern const luaL_Reg lgL_data_funcs[];     /* l_data.c: read_idx, rng state */
extern const luaL_Reg lgL_linalg_funcs[];   /* l_linalg.c: the lg.linalg table */

#endif
