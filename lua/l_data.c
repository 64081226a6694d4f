/*
** Data and random-state functions: lg.read_idx(path) for the MNIST family's
** files, lg.get_rng_state() / lg.set_rng_state(s) so that a checkpoint can
** resume the random stream bit-identically, lg.randperm(n) for shuffling,
** lg.clock() (monotonic wall time) for timing.
*/
#include "luagan.h"

#include <time.h>

/*** lg.read_idx(path) -> Tensor
 * Reads an IDX file (the format of MNIST and Fashion-MNIST, gzipped or not)
 * into a float tensor of the raw values with the file's shape; no scaling.
 * Raises naming the path for a missing or malformed file.  lg.data.mnist
 * builds on it.
 * Shapes: an images file -> [N, 28, 28]; a labels file -> [N].
 * @function lg.read_idx
 * @usage local ok, err = pcall(lg.read_idx, "datasets/mnist/t10k-images-idx3-ubyte.gz")
 */
/* lg.read_idx(path) -> float tensor of the raw values (gzipped or not) */
static int l_read_idx (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lg_read_idx(path));
}

/*** lg.get_rng_state() -> {integer, ...}
 * The global generator's state as a list of 5 integers (bit patterns, some
 * negative), so that a checkpoint can resume the random stream
 * bit-identically with lg.set_rng_state.
 * @function lg.get_rng_state
 * @usage local s = lg.get_rng_state()
 * local a = lg.rand(1):item()
 * lg.set_rng_state(s)
 * assert(lg.rand(1):item() == a)
 */
/* lg.get_rng_state() -> {5 integers}: the generator's words as Lua's 64-bit
** integers (bit patterns, so some are negative). */
static int l_get_rng_state (lua_State *L) {
  uint64_t s[5];
  lg_rng_get_state(s);
  lua_createtable(L, 5, 0);
  for (int i = 0; i < 5; i++) {
    lua_pushinteger(L, (lua_Integer)s[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/*** lg.set_rng_state(state)
 * Restores the global generator from a list returned by lg.get_rng_state.
 * Raises for a non-integer entry or an all-zero state.
 * @function lg.set_rng_state
 * @usage lg.set_rng_state(lg.get_rng_state())
 */
/* lg.set_rng_state(t): t as returned by get_rng_state */
static int l_set_rng_state (lua_State *L) {
  uint64_t s[5];
  luaL_checktype(L, 1, LUA_TTABLE);
  for (int i = 0; i < 5; i++) {
    lua_rawgeti(L, 1, i + 1);
    if (!lua_isinteger(L, -1))
      return luaL_error(L, "set_rng_state: entry %d must be an integer (use get_rng_state's table)", i + 1);
    s[i] = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if ((s[0] | s[1] | s[2] | s[3]) == 0)
    return luaL_error(L, "set_rng_state: an all-zero state would make the generator emit only zeros");
  lg_rng_set_state(s);
  return 0;
}

/*** lg.randperm(n) -> Tensor
 * A random permutation of 1..n (1-based, usable as indices) from the global
 * generator; n in 0 .. 2^24.
 * Shapes: -> [n].
 * @function lg.randperm
 * @usage local order = lg.randperm(10)
 * local shuffled = lg.randn(10, 2):index_select(1, order)
 */
/* lg.randperm(n) -> a random permutation of 1..n (1-based, like indices) */
static int l_randperm (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0 && n <= ((lua_Integer)1 << 24), 1,
                "randperm: n must be in 0..16777216 (floats hold indices exactly up to 2^24)");
  lg_tensor **r = lgL_newslot(L);
  return lgL_settensor(L, r, lgL_one_based(lg_randperm(n)));
}

/*** lg.clock() -> number
 * Seconds of monotonic wall time (not CPU time) from an arbitrary origin, for
 * timing and ETAs.
 * @function lg.clock
 * @usage local t0 = lg.clock()
 * local elapsed = lg.clock() - t0
 */
/* lg.clock() -> seconds of monotonic wall time, for timing and ETAs */
static int l_clock (lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

const luaL_Reg lgL_data_funcs[] = {
  {"randperm", l_randperm},
  {"clock", l_clock},
  {"read_idx", l_read_idx},
  {"get_rng_state", l_get_rng_state},
  {"set_rng_state", l_set_rng_state},
  {NULL, NULL}
};
