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
** Memory safety across Lua callbacks.  Lua code can run in the middle of a
** binding function: a metamethod (__index of an options table, __len of a
** list) and, at ANY allocation (a userdata, a string, a table), a finalizer
** (__gc) of some garbage object.  That code can free any tensor: `local v
** <close> = x` drops x's reference at once, and so does clearing x.grad.
** Hence, refining 1-3 above:
**   a. read every option, number and length first (lists with lua_rawlen
**      and lua_rawgeti, each length read once);
**   b. allocate every userdata the function needs (result slots, scratch);
**   c. only then take the tensor pointers (lgL_checktensor, which raises
**      "attempt to use a freed tensor" for a freed one) and use them, with
**      nothing in between that allocates or calls Lua.
** A pointer taken before a callback is dead after it: check an argument
** early for a clear message, but take its pointer again after the last
** allocation.  lgL_settensor may run the collector (lgL_account), so it is
** the last step; intermediate results are stored with lgL_puttensor.  Code
** that must allocate while it reads a tensor (printing) first pins the
** tensor with a reference of its own, held by a private userdata.
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
** NULL; calls no Lua function, so pointers taken before stay valid. */
static inline void lgL_puttensor(lua_State *L, lg_tensor **slot, lg_tensor *t) {
  if (t == NULL) lgL_coreerror(L);
  *slot = t;
}

/* lgL_puttensor, then charges the collector (which may run finalizers: the
** last step of a function).  Returns 1 (the userdata is on the stack) for
** `return settensor(..)`. */
static inline int lgL_settensor(lua_State *L, lg_tensor **slot, lg_tensor *t) {
  lgL_puttensor(L, slot, t);
  lgL_account(L);
  return 1;
}

/* The non-empty list of tensors at arg, read raw and its length once, into
** a scratch userdata it pushes, then the result slot *slot (the top of the
** stack); *n gets the length (l_tensor.c). */
lg_tensor **lgL_checktensorlist(lua_State *L, int arg, const char *op, int *n,
                                lg_tensor ***slot);

/* A 0-dim result r viewed with ndim size-1 dims (keepdim over all dims);
** consumes r, NULL-safe. */
static inline lg_tensor *lgL_keep_all(lg_tensor *r, int ndim) {
  int64_t ones[LG_MAXDIM];
  if (r == NULL || ndim == 0) return r;
  for (int i = 0; i < ndim; i++) ones[i] = 1;
  lg_tensor *v = lg_view(r, ndim, ones);
  lg_release(r);
  return v;
}

/* r + 1 (the core counts positions from 0, Lua from 1); consumes r, NULL-safe. */
static inline lg_tensor *lgL_one_based(lg_tensor *r) {
  lg_tensor *out = r ? lg_add_scalar(r, 1.0f) : NULL;
  lg_release(r);
  return out;
}

/* Pushes a new userdata holding another reference to t (t is not NULL).
** The allocation may run finalizers: t must be owned by something no Lua
** code can reach (a core result, a userdata private to the caller). */
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
/* A boolean field of the option table at arg (which may be nil).  Reads
** with lua_getfield: call it before taking tensor pointers. */
int lgL_optboolfield(lua_State *L, int arg, const char *key, int def, const char *op);

/* Converts a number argument to float, refusing values a float cannot hold. */
float lgL_checkfloat(lua_State *L, int arg);
/* The same check, the value kept as a double: for a kernel that derives
** constants (1 - beta) before rounding them, as PyTorch does. */
lua_Number lgL_checkfloatrange(lua_State *L, int arg);

/* Integers that the core takes as int (sizes, strides, paddings, counts)
** are read only through these, so that none is silently truncated: the
** value must be a number with an exact integer value in lo..hi, else
** "conv2d: padding 4294967297 is out of range (0..2^31-1)" or
** "conv2d: padding must be an integer, got 2.5".  `what` names the value
** in the message.  idx is an argument or any stack index; none or nil is
** an error. */
lua_Integer lgL_checkintrange(lua_State *L, int idx, const char *op, const char *what,
                              lua_Integer lo, lua_Integer hi);
/* Field key of the option table at arg (nil or none: def, not checked).
** Reads with lua_getfield, so an __index metamethod may run: call it before
** taking tensor pointers. */
lua_Integer lgL_optintfield(lua_State *L, int arg, const char *key, lua_Integer def,
                            lua_Integer lo, lua_Integer hi, const char *op);

/* ---------------------------------------------------------------- registration */

/* Sets the functions of l into the table on top of the stack, each with the
** Tensor metatable as upvalue 1 (it must already be registered). */
void lgL_setfuncs(lua_State *L, const luaL_Reg *l);

/* __index of tensors: upvalues (metatable, methods). */
int lgL_index(lua_State *L);

/* Indexing (l_index.c): x[key] and x[key] = v for a number or table key,
** called by __index (after the method lookup) and __newindex; lgL_indexget
** returns nothing for other keys. */
int lgL_indexget(lua_State *L);
int lgL_indexset(lua_State *L);
/* Raises if the key at 2 is a tensor (x[mask] and x[indices] are refused
** with the methods to use instead), for a read or a write. */
void lgL_tensorkey(lua_State *L, bool write);
/* Refuses an in-place write into t while it could be part of a graph
** (copy_, fill_, add_, x[i] = v, ...). */
void lgL_checkinplace(lua_State *L, const lg_tensor *t, const char *op);

/* Autograd properties, for __index/__newindex (l_autograd.c); getgrad
** reads the tensor at idx. */
int lgL_getgrad(lua_State *L, int idx);
void lgL_setgrad(lua_State *L, lg_tensor *t, int validx);
void lgL_setrequiresgrad(lua_State *L, lg_tensor *t, int validx);

/* Function lists, gathered by luaopen_luagan (l_module.c). */
extern const luaL_Reg lgL_tensor_meta[], lgL_tensor_methods[], lgL_tensor_funcs[];
extern const luaL_Reg lgL_ops_meta[], lgL_ops_methods[], lgL_ops_funcs[];
extern const luaL_Reg lgL_autograd_methods[], lgL_autograd_funcs[];
/* l_compare.c: comparisons, where, masks, argmax/argmin/min, rounding */
extern const luaL_Reg lgL_compare_meta[], lgL_compare_methods[], lgL_compare_funcs[];
/* l_shapeops.c: stack, chunk, split, pad, var, std, cumsum, sort, topk */
extern const luaL_Reg lgL_shapeops_methods[], lgL_shapeops_funcs[];
/* l_index.c: select, in-place arithmetic, scatter_/index_copy_, gather */
extern const luaL_Reg lgL_index_methods[], lgL_index_funcs[];
extern const luaL_Reg lgL_layers_funcs[];   /* l_layers.c: conv, batch_norm, pools, ... */
extern const luaL_Reg lgL_io_funcs[];       /* l_io.c: lg.save, lg.load */
extern const luaL_Reg lgL_optim_funcs[];    /* l_optim.c: fused update steps, clipping */
extern const luaL_Reg lgL_image_funcs[];    /* l_image.c: the lg.image table */
extern const luaL_Reg lgL_data_funcs[];     /* l_data.c: read_idx, rng state */
extern const luaL_Reg lgL_linalg_funcs[];   /* l_linalg.c: the lg.linalg table */
int lgL_openfs(lua_State *L);               /* l_fs.c: pushes the lg.fs table */
int lgL_openproc(lua_State *L);             /* l_proc.c: pushes the lg.proc table */
int lgL_opendist(lua_State *L);             /* l_dist.c: pushes lg._dist (see luagan/dist.lua) */

#endif
