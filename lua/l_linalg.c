/*
** lg.linalg: eigh, svd, cholesky, solve, inv, det, slogdet, with PyTorch's
** names and result orders.  All numerics are the core's (core/linalg.c);
** this file checks arguments and converts.
**
** eigh also takes a Lua table of rows of numbers and then stays in double
** precision end to end, returning tables, and sqrtm_psd and matmul work on
** such tables only: for the FID, whose value is a difference of traces that
** float32 results would blur.
*/
#include "luagan.h"

#include <stdint.h>

/* {====================================================== tables of doubles */

/* The table of rows of numbers at arg -> rows x cols row-major doubles in a
** scratch userdata pushed on the stack, with `extra` more doubles after
** them; square: rows must equal cols.  Errors name op. */
static double *check_table_rows(lua_State *L, int arg, const char *op, int square,
                                lua_Integer extra, lua_Integer *rowsp, lua_Integer *colsp) {
  if (lua_type(L, arg) != LUA_TTABLE)
    luaL_error(L, "%s: a table of rows of numbers is expected, got %s", op, luaL_typename(L, arg));
  lua_Integer rows = luaL_len(L, arg), cols = rows;
  if (!square && rows > 0) {
    if (lua_geti(L, arg, 1) != LUA_TTABLE)
      luaL_error(L, "%s: row 1 is not a table of numbers", op);
    cols = luaL_len(L, -1);
    lua_pop(L, 1);
  }
  if (rows > 46340 || cols > 46340 || extra > 46340)
    luaL_error(L, "%s: a %I x %I table is too large", op, rows, cols);
  double *a = lua_newuserdatauv(L, (size_t)(rows * cols + extra + 1) * sizeof(double), 0);
  for (lua_Integer i = 1; i <= rows; i++) {
    if (lua_geti(L, arg, i) != LUA_TTABLE || luaL_len(L, -1) != cols)
      luaL_error(L, "%s: %s: row %I of a %I-row table is not a table of %I numbers", op,
                 square ? "a square matrix is expected" : "rows of equal length are expected",
                 i, rows, cols);
    for (lua_Integer j = 1; j <= cols; j++) {
      int isnum;
      lua_geti(L, -1, j);
      a[(i - 1) * cols + (j - 1)] = lua_tonumberx(L, -1, &isnum);
      if (!isnum) luaL_error(L, "%s: entry [%I][%I] is not a number", op, i, j);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  *rowsp = rows;
  if (colsp) *colsp = cols;
  return a;
}

/* pushes a rows x cols row-major matrix of doubles as a table of rows */
static void push_table_rows(lua_State *L, const double *a, lua_Integer rows, lua_Integer cols) {
  lua_createtable(L, (int)rows, 0);
  for (lua_Integer i = 0; i < rows; i++) {
    lua_createtable(L, (int)cols, 0);
    for (lua_Integer j = 0; j < cols; j++) {
      lua_pushnumber(L, a[i * cols + j]);
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
}

/* values {n}, vectors {{n} x n}: eigenvector i in column i */
static int eigh_table(lua_State *L) {
  lua_Integer n;
  double *a = check_table_rows(L, 1, "linalg.eigh", 1, 0, &n, NULL);
  double *w = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof(double), 0);
  if (lg_eigh_f64(n, a, w)) return lgL_coreerror(L);
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_pushnumber(L, w[i]);
    lua_rawseti(L, -2, i + 1);
  }
  push_table_rows(L, a, n, n);
  return 2;
}

/*** lg.linalg.sqrtm_psd(A) -> table
 * The symmetric square root V diag(sqrt(max(l, 0))) V^T of a symmetric
 * positive semi-definite matrix given as a Lua table of rows (its lower
 * triangle is read), in double precision end to end, as a table; negative
 * eigenvalues, rounding noise of a PSD matrix, count as zero.  For
 * statistics whose value is a difference of traces (the FID).
 * @function lg.linalg.sqrtm_psd
 * @usage local R = lg.linalg.sqrtm_psd{{4, 0}, {0, 9}}   -- {{2, 0}, {0, 3}}
 */
static int l_sqrtm_psd (lua_State *L) {
  lua_Integer n;
  double *a = check_table_rows(L, 1, "linalg.sqrtm_psd", 1, 0, &n, NULL);
  if (lg_sqrtm_psd_f64(n, a)) return lgL_coreerror(L);
  push_table_rows(L, a, n, n);
  return 1;
}

/*** lg.linalg.matmul(A, B) -> table
 * The product of two matrices given as Lua tables of rows, in double
 * precision, as a table (tensors: lg.matmul).  Raises when A's columns and
 * B's rows differ.
 * Shapes: A {m x k}, B {k x n} -> {m x n}.
 * @function lg.linalg.matmul
 * @usage local C = lg.linalg.matmul({{1, 2}}, {{3}, {4}})   -- {{11}}
 */
static int l_matmul_table (lua_State *L) {
  lua_Integer m, k, k2, n;
  if (lua_type(L, 1) == LUA_TUSERDATA || lua_type(L, 2) == LUA_TUSERDATA)
    return luaL_error(L, "linalg.matmul: tables of rows are expected (for tensors: lg.matmul)");
  double *a = check_table_rows(L, 1, "linalg.matmul", 0, 0, &m, &k);
  double *b = check_table_rows(L, 2, "linalg.matmul", 0, 0, &k2, &n);
  if (m > 0 && k2 != k)
    return luaL_error(L, "linalg.matmul: A is %I x %I but B has %I rows", m, k, k2);
  double *c = lua_newuserdatauv(L, (size_t)(m * n + 1) * sizeof(double), 0);
  lg_matmul_f64(m, k, n, a, b, c);
  push_table_rows(L, c, m, n);
  return 1;
}

/* }====================================================== */

/* {====================================================== tensors */

/* Stores the core's results in slots already on the stack, or raises. */
static int settensors(lua_State *L, int n, lg_tensor ***slots, lg_tensor **ts, int ok) {
  if (!ok) return lgL_coreerror(L);
  for (int i = 0; i < n; i++) *slots[i] = ts[i];
  lgL_account(L);
  return n;
}

/* The binding's order (luagan.h): options and slots first, tensor pointers
** last, since an allocation or a metamethod may free an argument. */

/*** lg.linalg.eigh(A) -> values, vectors
 * Eigen-decomposition of a symmetric matrix (its lower triangle is read), as
 * torch.linalg.eigh: eigenvalues ascending, eigenvector i in column i.  A is a
 * tensor [n, n] or a batch [..., n, n] (computed in double, rounded to float
 * once; differentiable for distinct eigenvalues), or a Lua table of rows of
 * numbers, which stays in double precision end to end and returns tables
 * (the FID needs it).  NaN or Inf raises.
 * Shapes: A [..., n, n] -> values [..., n], vectors [..., n, n].
 * @function lg.linalg.eigh
 * @usage local A = lg.tensor{{2, 1}, {1, 2}}
 * local w, V = lg.linalg.eigh(A)            -- w = 1, 3
 * local tw, tV = lg.linalg.eigh{{2, 1}, {1, 2}}   -- Lua tables of doubles
 */
/* lg.linalg.eigh(A) -> values [..., n] ascending, vectors [..., n, n] (columns) */
static int l_eigh (lua_State *L) {
  if (lua_type(L, 1) == LUA_TTABLE) return eigh_table(L);
  lgL_checktensor(L, 1);
  lg_tensor *ts[2], **slots[2] = {lgL_newslot(L), lgL_newslot(L)};
  ts[0] = lg_linalg_eigh(lgL_checktensor(L, 1), &ts[1]);
  return settensors(L, 2, slots, ts, ts[0] != NULL);
}

/*** lg.linalg.svd(A [, {full_matrices = false}]) -> U, S, Vh
 * Singular value decomposition A = U diag(S) Vh, singular values descending,
 * as torch.linalg.svd; reduced by default (k = min(m, n)), full with
 * full_matrices = true.  Differentiable for distinct singular values.
 * Shapes: A [..., m, n] -> U [..., m, k], S [..., k], Vh [..., k, n]
 * (full: U [..., m, m], Vh [..., n, n]).
 * @function lg.linalg.svd
 * @usage local U, S, Vh = lg.linalg.svd(lg.randn(5, 3))   -- [5, 3], [3], [3, 3]
 */
/* lg.linalg.svd(A, {full_matrices = false}) -> U, S, Vh */
static int l_svd (lua_State *L) {
  static const char *const opts[] = {"full_matrices", NULL};
  lgL_checktensor(L, 1);
  lgL_checkoptions(L, 2, "linalg.svd", opts);
  int full = lgL_optboolfield(L, 2, "full_matrices", 0, "linalg.svd");
  lg_tensor *ts[3], **slots[3] = {lgL_newslot(L), lgL_newslot(L), lgL_newslot(L)};
  int ok = lg_linalg_svd(lgL_checktensor(L, 1), full, &ts[0], &ts[1], &ts[2]) == 0;
  return settensors(L, 3, slots, ts, ok);
}

/*** lg.linalg.slogdet(A) -> sign, logabsdet
 * The sign of det(A) (0 when singular; no gradient) and log|det(A)|, which
 * stays finite where det itself would overflow.  Differentiable in logabsdet
 * for a non-singular A.
 * Shapes: A [..., n, n] -> sign [...], logabsdet [...] (0-dim for one matrix).
 * @function lg.linalg.slogdet
 * @usage local s, ld = lg.linalg.slogdet(lg.tensor{{2, 0}, {0, 3}})   -- 1, log 6
 */
/* lg.linalg.slogdet(A) -> sign, logabsdet */
static int l_slogdet (lua_State *L) {
  lgL_checktensor(L, 1);
  lg_tensor *ts[2], **slots[2] = {lgL_newslot(L), lgL_newslot(L)};
  ts[0] = lg_linalg_slogdet(lgL_checktensor(L, 1), &ts[1]);
  return settensors(L, 2, slots, ts, ts[0] != NULL);
}

/*** lg.linalg.solve(A, B) -> Tensor
 * The solution X of A X = B for a square non-singular A (a singular one
 * raises); B is a vector or a matrix of right-hand sides with A's batch dims.
 * Differentiable.
 * Shapes: A [..., n, n], B [..., n] or [..., n, k] -> B's shape.
 * @function lg.linalg.solve
 * @usage local x = lg.linalg.solve(lg.tensor{{2, 0}, {0, 4}}, lg.tensor{2, 8})   -- 1, 2
 */
static int l_solve (lua_State *L) {
  lgL_checktensor(L, 1);
  lgL_checktensor(L, 2);
  lg_tensor **r = lgL_newslot(L);
  lg_tensor *a = lgL_checktensor(L, 1), *b = lgL_checktensor(L, 2);
  return lgL_settensor(L, r, lg_linalg_solve(a, b));
}

#define UNARY(name, fn)                                   \
  static int name (lua_State *L) {                        \
    lgL_checktensor(L, 1);                                \
    lg_tensor **r = lgL_newslot(L);                       \
    return lgL_settensor(L, r, fn(lgL_checktensor(L, 1))); \
  }

/*** lg.linalg.cholesky(A) -> Tensor
 * The lower-triangular L with A = L L^T for a symmetric positive-definite A
 * (its lower triangle is read; a matrix that is not positive definite
 * raises).  Differentiable.
 * Shapes: A [..., n, n] -> [..., n, n].
 * @function lg.linalg.cholesky
 * @usage local L = lg.linalg.cholesky(lg.tensor{{4, 2}, {2, 3}})
 */
UNARY(l_cholesky, lg_linalg_cholesky)
/*** lg.linalg.inv(A) -> Tensor
 * The inverse of a square non-singular matrix (a singular one raises).
 * Differentiable.
 * Shapes: A [..., n, n] -> [..., n, n].
 * @function lg.linalg.inv
 * @usage local Ai = lg.linalg.inv(lg.tensor{{2, 0}, {0, 4}})
 */
UNARY(l_inv, lg_linalg_inv)
/*** lg.linalg.det(A) -> Tensor
 * The determinant of a square matrix (of each in a batch).  Differentiable
 * everywhere, twice too: det(A) A^-T, or at a singular A the cofactor matrix
 * (n^2 minors' determinants, O(n^5)).  Prefer slogdet for large matrices.
 * Shapes: A [..., n, n] -> [...] (0-dim for one matrix).
 * @function lg.linalg.det
 * @usage local d = lg.linalg.det(lg.tensor{{1, 2}, {3, 4}}):item()   -- -2
 */
UNARY(l_det, lg_linalg_det)

/* }====================================================== */

const luaL_Reg lgL_linalg_funcs[] = {
  {"eigh", l_eigh},
  {"svd", l_svd},
  {"cholesky", l_cholesky},
  {"solve", l_solve},
  {"inv", l_inv},
  {"det", l_det},
  {"slogdet", l_slogdet},
  {"sqrtm_psd", l_sqrtm_psd},
  {"matmul", l_matmul_table},
  {NULL, NULL}
};
