/*
** core/linalg.c: known values (hand-computed 2x2 and 3x3 results),
** reconstructions on random matrices, batches, empty matrices, errors, and
** gradients to second order against finite differences.
*/
#include "check.h"

/* {====================================================== helpers */

/* max |a - b| over two tensors of the same numel */
static double max_diff(const lg_tensor *a, const lg_tensor *b) {
  double m = 0;
  assert_int_equal(a->numel, b->numel);
  for (int64_t i = 0; i < a->numel; i++) m = fmax(m, fabs(ck_get(a, i) - ck_get(b, i)));
  return m;
}

/* consumes a and b: a b */
static lg_tensor *mm(lg_tensor *a, lg_tensor *b) {
  lg_tensor *p = CK(lg_matmul(a, b));
  lg_release(a);
  lg_release(b);
  return p;
}

static lg_tensor *tr(lg_tensor *t) { return CK(lg_transpose(t, t->ndim - 2, t->ndim - 1)); }

static lg_tensor *retain(lg_tensor *t) {
  lg_retain(t);
  return t;
}

/* t + s I for a [n,n] tensor, in place */
static lg_tensor *add_diag(lg_tensor *t, float s) {
  int64_t n = t->shape[t->ndim - 1];
  for (int64_t b = 0; b < t->numel / (n * n); b++)
    for (int64_t i = 0; i < n; i++) lg_data(t)[b * n * n + i * n + i] += s;
  return t;
}

/* a random [..., n, n] matrix s I + 0.3 N(0,1): well conditioned */
static lg_tensor *well_conditioned(int nd, const int64_t *shape, float s) {
  lg_tensor *t = CK(lg_randn(nd, shape)), *u = CK(lg_mul_scalar(t, 0.3f));
  lg_release(t);
  return add_diag(u, s);
}

/* a random symmetric [n,n]: B + B^T with distinct, spread eigenvalues */
static lg_tensor *random_symmetric(int64_t n) {
  lg_tensor *b = CK(lg_randn(SHAPE(n, n))), *bt = tr(b), *s = CK(lg_add(b, bt));
  lg_release(b);
  lg_release(bt);
  for (int64_t i = 0; i < n; i++) lg_data(s)[i * n + i] += 3.0f * (float)i;
  return s;
}

/* }====================================================== */

/* {====================================================== known values */

static void eigh_known(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 2), 2, 1, 1, 2), *v, *w = CK(lg_linalg_eigh(a, &v));
  EXPECT_SHAPE(w, 2);
  EXPECT_SHAPE(v, 2, 2);
  EXPECT_VALUES(w, 1, 3);
  /* columns: (1,-1)/sqrt2 and (1,1)/sqrt2 up to sign */
  const float *q = NULL;
  lg_tensor *vc = CK(lg_contiguous(v));
  q = lg_data(vc);
  assert_float_equal(fabsf(q[0]), sqrtf(0.5f), 1e-6);
  assert_float_equal(q[0] * q[2], -0.5f, 1e-6);
  assert_float_equal(q[1] * q[3], 0.5f, 1e-6);
  lg_release(a), lg_release(v), lg_release(w), lg_release(vc);

  /* tridiagonal 4,1: eigenvalues 4 - sqrt2, 4, 4 + sqrt2; the upper triangle
  ** is ignored (only the lower one is read) */
  lg_tensor *t = TENSOR(SHAPE(3, 3), 4, 99, -7, 1, 4, 99, 0, 1, 4);
  w = CK(lg_linalg_eigh(t, &v));
  EXPECT_VALUES(w, 4 - sqrtf(2), 4, 4 + sqrtf(2));
  lg_release(t), lg_release(v), lg_release(w);
}

static void svd_known(void **state) {
  (void)state;
  /* [[3,0],[4,5]]: A^T A = [[25,20],[20,25]], singular values sqrt45, sqrt5 */
  lg_tensor *a = TENSOR(SHAPE(2, 2), 3, 0, 4, 5), *u, *s, *vh;
  assert_int_equal(lg_linalg_svd(a, false, &u, &s, &vh), 0);
  EXPECT_VALUES(s, sqrtf(45), sqrtf(5));
  lg_release(u), lg_release(s), lg_release(vh);
  /* a rank-one 2x3: [1,2,2] and 2 [1,2,2], singular values 3 sqrt5 and 0 */
  lg_tensor *r = TENSOR(SHAPE(2, 3), 1, 2, 2, 2, 4, 4);
  assert_int_equal(lg_linalg_svd(r, false, &u, &s, &vh), 0);
  EXPECT_SHAPE(u, 2, 2);
  EXPECT_SHAPE(vh, 2, 3);
  EXPECT_VALUES(s, 3 * sqrtf(5), 0);
  lg_release(u), lg_release(s), lg_release(vh), lg_release(a), lg_release(r);
}

static void cholesky_solve_inv_det_known(void **state) {
  (void)state;
  lg_tensor *a = TENSOR(SHAPE(2, 2), 4, 2, 2, 3), *l = CK(lg_linalg_cholesky(a));
  EXPECT_VALUES(l, 2, 0, 1, sqrtf(2));
  lg_tensor *m = TENSOR(SHAPE(2, 2), 3, 1, 1, 2), *b = TENSOR(SHAPE(2), 9, 8);
  lg_tensor *x = CK(lg_linalg_solve(m, b));
  EXPECT_SHAPE(x, 2);
  EXPECT_VALUES(x, 2, 3);
  lg_tensor *bm = TENSOR(SHAPE(2, 2), 9, 1, 8, 2), *xm = CK(lg_linalg_solve(m, bm));
  EXPECT_VALUES(xm, 2, 0, 3, 1);
  lg_tensor *c = TENSOR(SHAPE(2, 2), 4, 7, 2, 6), *ci = CK(lg_linalg_inv(c));
  EXPECT_VALUES(ci, 0.6f, -0.7f, -0.2f, 0.4f);
  lg_tensor *d = TENSOR(SHAPE(2, 2), 1, 2, 3, 4), *det = CK(lg_linalg_det(d)), *la;
  EXPECT_SHAPE(det);
  EXPECT_VALUES(det, -2);
  lg_tensor *sg = CK(lg_linalg_slogdet(d, &la));
  EXPECT_VALUES(sg, -1);
  EXPECT_VALUES(la, logf(2));
  /* a permutation times a diagonal: det = -(2 * 3 * 4) */
  lg_tensor *p = TENSOR(SHAPE(3, 3), 0, 3, 0, 2, 0, 0, 0, 0, 4), *dp = CK(lg_linalg_det(p));
  EXPECT_VALUES(dp, -24);
  /* singular: det 0, slogdet (0, -inf) */
  lg_tensor *z = TENSOR(SHAPE(2, 2), 1, 2, 2, 4), *dz = CK(lg_linalg_det(z)), *lz;
  EXPECT_VALUES(dz, 0);
  lg_tensor *sz = CK(lg_linalg_slogdet(z, &lz));
  EXPECT_VALUES(sz, 0);
  assert_true(isinf(lg_item(lz)) && lg_item(lz) < 0);
  lg_release(a), lg_release(l), lg_release(m), lg_release(b), lg_release(x);
  lg_release(bm), lg_release(xm), lg_release(c), lg_release(ci), lg_release(d);
  lg_release(det), lg_release(sg), lg_release(la), lg_release(p), lg_release(dp);
  lg_release(z), lg_release(dz), lg_release(sz), lg_release(lz);
}

/* }====================================================== */

/* {====================================================== reconstructions */

static void eigh_reconstructs(void **state) {
  (void)state;
  lg_tensor *a = random_symmetric(12), *v, *w = CK(lg_linalg_eigh(a, &v));
  for (int i = 1; i < 12; i++) assert_true(ck_get(w, i) >= ck_get(w, i - 1));
  /* V diag(w) V^T = A and V^T V = I */
  lg_tensor *vw = CK(lg_mul(v, w));   /* scales column j by w[j] */
  lg_tensor *rec = mm(vw, tr(v)), *gram = mm(tr(v), retain(v));
  assert_true(max_diff(rec, a) < 1e-4 * 12);
  lg_tensor *i12 = add_diag(CK(lg_zeros(SHAPE(12, 12))), 1);
  assert_true(max_diff(gram, i12) < 1e-5);
  lg_release(a), lg_release(v), lg_release(w), lg_release(rec), lg_release(gram);
  lg_release(i12);
}

static void svd_reconstructs(void **state) {
  (void)state;
  const int64_t shapes[3][2] = {{5, 3}, {3, 5}, {4, 4}};
  for (int c = 0; c < 3; c++) {
    int64_t m = shapes[c][0], n = shapes[c][1], k = m < n ? m : n;
    lg_tensor *a = CK(lg_randn(2, shapes[c])), *u, *s, *vh;
    assert_int_equal(lg_linalg_svd(a, false, &u, &s, &vh), 0);
    EXPECT_SHAPE(u, m, k);
    EXPECT_SHAPE(s, k);
    EXPECT_SHAPE(vh, k, n);
    for (int i = 1; i < k; i++) assert_true(ck_get(s, i) <= ck_get(s, i - 1));
    lg_tensor *us = CK(lg_mul(u, s)), *rec = mm(us, retain(vh));
    assert_true(max_diff(rec, a) < 1e-5 * 10);
    lg_release(u), lg_release(s), lg_release(vh), lg_release(rec);
    /* full: square orthogonal U and Vh, the same singular values */
    assert_int_equal(lg_linalg_svd(a, true, &u, &s, &vh), 0);
    EXPECT_SHAPE(u, m, m);
    EXPECT_SHAPE(vh, n, n);
    lg_tensor *uu = mm(tr(u), retain(u)), *vv = mm(retain(vh), tr(vh));
    lg_tensor *im = add_diag(CK(lg_zeros(SHAPE(m, m))), 1), *in = add_diag(CK(lg_zeros(SHAPE(n, n))), 1);
    assert_true(max_diff(uu, im) < 1e-5);
    assert_true(max_diff(vv, in) < 1e-5);
    lg_release(a), lg_release(u), lg_release(s), lg_release(vh), lg_release(uu);
    lg_release(vv), lg_release(im), lg_release(in);
  }
}

static void cholesky_solve_inv_reconstruct(void **state) {
  (void)state;
  lg_tensor *b = CK(lg_randn(SHAPE(6, 6))), *a = add_diag(mm(retain(b), tr(b)), 1);
  lg_tensor *l = CK(lg_linalg_cholesky(a)), *llt = mm(retain(l), tr(l));
  assert_true(max_diff(llt, a) < 1e-4);
  for (int i = 0; i < 6; i++)
    for (int j = i + 1; j < 6; j++) assert_true(ck_get(l, i * 6 + j) == 0.0f);
  lg_tensor *rhs = CK(lg_randn(SHAPE(6, 2))), *x = CK(lg_linalg_solve(a, rhs));
  lg_tensor *ax = mm(retain(a), retain(x));
  assert_true(max_diff(ax, rhs) < 1e-4);
  lg_tensor *ai = CK(lg_linalg_inv(a)), *aai = mm(retain(a), retain(ai));
  lg_tensor *i6 = add_diag(CK(lg_zeros(SHAPE(6, 6))), 1);
  assert_true(max_diff(aai, i6) < 1e-4);
  /* det = prod(diag(L))^2 */
  double p = 1;
  for (int i = 0; i < 6; i++) p *= ck_get(l, i * 6 + i);
  lg_tensor *det = CK(lg_linalg_det(a));
  assert_true(fabs(lg_item(det) - p * p) < 1e-4 * p * p);
  lg_release(b), lg_release(a), lg_release(l), lg_release(llt), lg_release(rhs);
  lg_release(x), lg_release(ax), lg_release(ai), lg_release(aai), lg_release(i6);
  lg_release(det);
}

/* Every entry of a batch equals the op on that matrix alone; non-contiguous
** inputs read the same values. */
static void batches_match_single_matrices(void **state) {
  (void)state;
  lg_tensor *a = well_conditioned(SHAPE(2, 3, 3, 3), 2.0f), *b = CK(lg_randn(SHAPE(2, 3, 3)));
  lg_tensor *x = CK(lg_linalg_solve(a, b)), *inv = CK(lg_linalg_inv(a));
  lg_tensor *det = CK(lg_linalg_det(a)), *l, *sg = CK(lg_linalg_slogdet(a, &l));
  EXPECT_SHAPE(x, 2, 3, 3);
  EXPECT_SHAPE(det, 2, 3);
  EXPECT_SHAPE(l, 2, 3);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++) {
      lg_tensor *ai = CK(lg_narrow(a, 0, i, 1)), *aij = CK(lg_narrow(ai, 1, j, 1));
      int64_t s2[2] = {3, 3}, s1[1] = {3};
      lg_tensor *m = CK(lg_reshape(aij, 2, s2));
      lg_tensor *bi = CK(lg_narrow(b, 0, i, 1)), *bij = CK(lg_narrow(bi, 1, j, 1));
      lg_tensor *v = CK(lg_reshape(bij, 1, s1));
      lg_tensor *x1 = CK(lg_linalg_solve(m, v)), *d1 = CK(lg_linalg_det(m)), *i1 = CK(lg_linalg_inv(m));
      for (int k = 0; k < 3; k++) assert_float_equal(ck_get(x, (i * 3 + j) * 3 + k), ck_get(x1, k), 0);
      for (int k = 0; k < 9; k++)
        assert_float_equal(ck_get(inv, (i * 3 + j) * 9 + k), ck_get(i1, k), 0);
      assert_float_equal(ck_get(det, i * 3 + j), lg_item(d1), 0);
      assert_float_equal(ck_get(sg, i * 3 + j) * expf(ck_get(l, i * 3 + j)), lg_item(d1),
                         1e-5 * fabsf(lg_item(d1)));
      lg_release(ai), lg_release(aij), lg_release(m), lg_release(bi), lg_release(bij);
      lg_release(v), lg_release(x1), lg_release(d1), lg_release(i1);
    }
  /* a transposed view is read as the matrix it shows */
  lg_tensor *at = tr(a), *atc = CK(lg_contiguous(at));
  lg_tensor *e1 = CK(lg_linalg_inv(at)), *e2 = CK(lg_linalg_inv(atc));
  assert_true(max_diff(e1, e2) == 0);
  lg_release(a), lg_release(b), lg_release(x), lg_release(inv), lg_release(det);
  lg_release(l), lg_release(sg), lg_release(at), lg_release(atc), lg_release(e1);
  lg_release(e2);
}

static void empty_matrices(void **state) {
  (void)state;
  lg_tensor *e = CK(lg_zeros(SHAPE(0, 0))), *v, *w = CK(lg_linalg_eigh(e, &v));
  EXPECT_SHAPE(w, 0);
  EXPECT_SHAPE(v, 0, 0);
  lg_tensor *d = CK(lg_linalg_det(e)), *l, *s = CK(lg_linalg_slogdet(e, &l));
  EXPECT_VALUES(d, 1);
  EXPECT_VALUES(s, 1);
  EXPECT_VALUES(l, 0);
  lg_tensor *c = CK(lg_linalg_cholesky(e)), *i = CK(lg_linalg_inv(e));
  EXPECT_SHAPE(c, 0, 0);
  EXPECT_SHAPE(i, 0, 0);
  lg_tensor *b = CK(lg_zeros(SHAPE(0))), *x = CK(lg_linalg_solve(e, b));
  EXPECT_SHAPE(x, 0);
  lg_tensor *u, *sv, *vh;
  lg_tensor *e3 = CK(lg_zeros(SHAPE(3, 0)));
  assert_int_equal(lg_linalg_svd(e3, false, &u, &sv, &vh), 0);
  EXPECT_SHAPE(u, 3, 0);
  EXPECT_SHAPE(sv, 0);
  EXPECT_SHAPE(vh, 0, 0);
  lg_release(u), lg_release(sv), lg_release(vh);
  assert_int_equal(lg_linalg_svd(e3, true, &u, &sv, &vh), 0);
  EXPECT_SHAPE(u, 3, 3);
  EXPECT_VALUES(u, 1, 0, 0, 0, 1, 0, 0, 0, 1);
  /* an empty batch */
  lg_tensor *eb = CK(lg_zeros(SHAPE(0, 2, 2))), *ib = CK(lg_linalg_inv(eb));
  EXPECT_SHAPE(ib, 0, 2, 2);
  lg_release(e), lg_release(v), lg_release(w), lg_release(d), lg_release(l);
  lg_release(s), lg_release(c), lg_release(i), lg_release(b), lg_release(x);
  lg_release(u), lg_release(sv), lg_release(vh), lg_release(e3), lg_release(eb);
  lg_release(ib);
}

/* }====================================================== */

/* {====================================================== errors */

static void errors(void **state) {
  (void)state;
  lg_tensor *r = CK(lg_zeros(SHAPE(2, 3))), *v = CK(lg_zeros(SHAPE(3))), *o = NULL;
  lg_tensor *u, *s, *vh;
  EXPECT_ERR(lg_linalg_inv(r), "linalg.inv: A must be a square matrix", "[2,3]");
  EXPECT_ERR(lg_linalg_eigh(r, &o), "linalg.eigh: A must be a square matrix", "[2,3]");
  EXPECT_ERR(lg_linalg_cholesky(v), "linalg.cholesky: A must be a square matrix", "[3]");
  EXPECT_ERR(lg_linalg_det(v), "linalg.det: A must be a square matrix", "[3]");
  EXPECT_ERR(lg_linalg_slogdet(r, &o), "linalg.slogdet: A must be a square");
  EXPECT_ERR(lg_linalg_solve(r, v), "linalg.solve: A must be a square");
  EXPECT_RC_ERR(lg_linalg_svd(v, false, &u, &s, &vh), "linalg.svd: A must be a matrix", "[3]");
  assert_null(o);

  lg_tensor *sing = TENSOR(SHAPE(2, 2), 1, 2, 2, 4), *b2 = TENSOR(SHAPE(2), 1, 1);
  EXPECT_ERR(lg_linalg_solve(sing, b2), "linalg.solve: A is singular");
  EXPECT_ERR(lg_linalg_inv(sing), "linalg.inv: A is singular");
  lg_tensor *b3 = CK(lg_zeros(SHAPE(3, 2)));
  EXPECT_ERR(lg_linalg_solve(sing, b3), "linalg.solve: A [2,2] and B [3,2] do not match");
  /* the second matrix of a batch is the singular one */
  lg_tensor *batch = TENSOR(SHAPE(2, 2, 2), 1, 0, 0, 1, 1, 2, 2, 4);
  EXPECT_ERR(lg_linalg_inv(batch), "linalg.inv: A is singular (batch entry 2)");

  lg_tensor *npd = TENSOR(SHAPE(3, 3), 1, 0, 0, 0, 1, 0, 0, 0, -1);
  EXPECT_ERR(lg_linalg_cholesky(npd), "linalg.cholesky: matrix is not positive definite (leading minor 3)");
  lg_tensor *npd2 = TENSOR(SHAPE(2, 2), 1, 2, 2, 1);
  EXPECT_ERR(lg_linalg_cholesky(npd2), "not positive definite (leading minor 2)");

  /* NaN and Inf are refused before LAPACK sees them */
  lg_tensor *nan = TENSOR(SHAPE(2, 2), 1, NAN, NAN, 1), *inf = TENSOR(SHAPE(2, 2), INFINITY, 0, 0, 1);
  lg_tensor *bn = TENSOR(SHAPE(2), 1, NAN), *id = TENSOR(SHAPE(2, 2), 1, 0, 0, 1);
  EXPECT_ERR(lg_linalg_eigh(nan, &o), "linalg.eigh: A contains NaN or Inf");
  EXPECT_RC_ERR(lg_linalg_svd(nan, false, &u, &s, &vh), "linalg.svd: A contains NaN or Inf");
  EXPECT_ERR(lg_linalg_cholesky(inf), "linalg.cholesky: A contains NaN or Inf");
  EXPECT_ERR(lg_linalg_solve(nan, b2), "linalg.solve: A contains NaN or Inf");
  EXPECT_ERR(lg_linalg_solve(id, bn), "linalg.solve: B contains NaN or Inf");
  EXPECT_ERR(lg_linalg_inv(inf), "linalg.inv: A contains NaN or Inf");
  EXPECT_ERR(lg_linalg_det(nan), "linalg.det: A contains NaN or Inf");
  EXPECT_ERR(lg_linalg_slogdet(nan, &o), "linalg.slogdet: A contains NaN or Inf");
  double dn[4] = {1, NAN, NAN, 1}, w[2];
  EXPECT_RC_ERR(lg_eigh_f64(2, dn, w), "linalg.eigh: the matrix contains NaN or Inf");

  /* det's gradient at a singular matrix is its cofactor matrix, neither an
  ** error nor NaN; log|det|'s is an error (-inf has no gradient) */
  lg_tensor *leaf = CK(lg_clone(sing)), *g = NULL, *sg = NULL;
  leaf->requires_grad = true;
  lg_tensor *d = CK(lg_linalg_det(leaf));
  assert_int_equal(lg_grad(1, &d, NULL, 1, &leaf, &g, false, false), 0);
  const float cof[4] = {4, -2, -2, 1};
  for (int e = 0; e < 4; e++) assert_true(lg_data(g)[e] == cof[e]);
  lg_tensor *l = NULL, *sign = CK(lg_linalg_slogdet(leaf, &l));
  EXPECT_RC_ERR(lg_grad(1, &l, NULL, 1, &leaf, &sg, false, false),
                "linalg.slogdet: log|det(A)| has no gradient at a singular A");
  lg_release(r), lg_release(v), lg_release(sing), lg_release(b2), lg_release(b3);
  lg_release(batch), lg_release(npd), lg_release(npd2), lg_release(nan), lg_release(inf);
  lg_release(bn), lg_release(id), lg_release(leaf), lg_release(d), lg_release(g);
  lg_release(sign), lg_release(l);
}

/* }====================================================== */

/* {====================================================== gradients */

/* x + x^T: eigh reads one triangle, so its gradient is checked on a
** symmetric parametrisation */
static lg_tensor *sym(lg_tensor *x) {
  lg_tensor *t = lg_transpose(x, x->ndim - 2, x->ndim - 1), *s = t ? lg_add(x, t) : NULL;
  lg_release(t);
  return s;
}

/* consumes a and b: [a flattened, b flattened] */
static lg_tensor *cat_flat(lg_tensor *a, lg_tensor *b) {
  if (!a || !b) {
    lg_release(a);
    lg_release(b);
    return NULL;
  }
  int64_t na = a->numel, nb = b->numel;
  lg_tensor *fa = lg_reshape(a, 1, &na), *fb = lg_reshape(b, 1, &nb), *parts[2] = {fa, fb};
  lg_tensor *c = fa && fb ? lg_cat(parts, 2, 0) : NULL;
  lg_release(a), lg_release(b), lg_release(fa), lg_release(fb);
  return c;
}

/* consumes t: t .* t, a function of the vectors that their signs do not change */
static lg_tensor *square(lg_tensor *t) {
  lg_tensor *s = t ? lg_mul(t, t) : NULL;
  lg_release(t);
  return s;
}

static lg_tensor *eigh_values(lg_tensor *x) {
  lg_tensor *a = sym(x), *v = NULL, *w = a ? lg_linalg_eigh(a, &v) : NULL;
  lg_release(a), lg_release(v);
  return w;
}

static lg_tensor *eigh_both(lg_tensor *x) {
  lg_tensor *a = sym(x), *v = NULL, *w = a ? lg_linalg_eigh(a, &v) : NULL;
  lg_release(a);
  return cat_flat(w, square(v));
}

static lg_tensor *svd_values(lg_tensor *x) {
  lg_tensor *u, *s, *vh;
  if (lg_linalg_svd(x, false, &u, &s, &vh)) return NULL;
  lg_release(u), lg_release(vh);
  return s;
}

static lg_tensor *svd_all(lg_tensor *x) {
  lg_tensor *u, *s, *vh;
  if (lg_linalg_svd(x, false, &u, &s, &vh)) return NULL;
  return cat_flat(cat_flat(square(u), s), square(vh));
}

/* only U (or only Vh): the one-sided branches of the backward */
static lg_tensor *svd_u(lg_tensor *x) {
  lg_tensor *u, *s, *vh;
  if (lg_linalg_svd(x, false, &u, &s, &vh)) return NULL;
  lg_release(s), lg_release(vh);
  return square(u);
}

static lg_tensor *svd_vh(lg_tensor *x) {
  lg_tensor *u, *s, *vh;
  if (lg_linalg_svd(x, false, &u, &s, &vh)) return NULL;
  lg_release(s), lg_release(u);
  return square(vh);
}

/* full_matrices: the first k columns of U and rows of Vh, and S, get the
** reduced gradient; the completion columns none (as PyTorch) */
static lg_tensor *svd_full_part(lg_tensor *x) {
  lg_tensor *u, *s, *vh;
  if (lg_linalg_svd(x, true, &u, &s, &vh)) return NULL;
  int64_t k = s->shape[0];
  lg_tensor *uk = lg_narrow(u, 1, 0, k), *vk = lg_narrow(vh, 0, 0, k);
  lg_release(u), lg_release(vh);
  return cat_flat(cat_flat(square(uk), s), square(vk));
}

static lg_tensor *cholesky_of_gram(lg_tensor *x) {
  lg_tensor *t = lg_transpose(x, x->ndim - 2, x->ndim - 1);
  lg_tensor *a = t ? lg_matmul(x, t) : NULL, *l = a ? lg_linalg_cholesky(a) : NULL;
  lg_release(t), lg_release(a);
  return l;
}

static lg_tensor *logabsdet(lg_tensor *x) {
  lg_tensor *l = NULL, *s = lg_linalg_slogdet(x, &l);
  lg_release(s);
  return l;
}

FN(f_eigh_values, eigh_values(x[0]))
FN(f_eigh_both, eigh_both(x[0]))
FN(f_svd_values, svd_values(x[0]))
FN(f_svd_all, svd_all(x[0]))
FN(f_svd_u, svd_u(x[0]))
FN(f_svd_vh, svd_vh(x[0]))
FN(f_svd_full_part, svd_full_part(x[0]))
FN(f_cholesky, cholesky_of_gram(x[0]))
FN(f_solve, lg_linalg_solve(x[0], x[1]))
FN(f_inv, lg_linalg_inv(x[0]))
FN(f_det, lg_linalg_det(x[0]))
FN(f_logabsdet, logabsdet(x[0]))

/* 0.3 N(0,1) plus spread values on the diagonal: well separated
** eigenvalues (of x + x^T) and singular values, so that finite differences
** with steps ~0.016 see a smooth function */
static lg_tensor *spread(int nd, const int64_t *shape) {
  lg_tensor *t = CK(lg_randn(nd, shape)), *u = CK(lg_mul_scalar(t, 0.3f));
  int64_t m = shape[nd - 2], n = shape[nd - 1], k = m < n ? m : n;
  lg_release(t);
  for (int64_t b = 0; b < u->numel / (m * n); b++)
    for (int64_t i = 0; i < k; i++) lg_data(u)[b * m * n + i * n + i] += 1.5f * (float)(k - i);
  return u;
}

static void grad_eigh(void **state) {
  (void)state;
  CHECK_GRADS(f_eigh_values, NULL, spread(SHAPE(3, 3)));
  CHECK_GRADS(f_eigh_both, NULL, spread(SHAPE(3, 3)));
  CHECK_GRADS(f_eigh_both, NULL, spread(SHAPE(2, 3, 3)));
  GRADCHECK(f_eigh_both, NULL, spread(SHAPE(2, 1, 2, 2)));   /* two batch dims */
}

static void grad_svd(void **state) {
  (void)state;
  CHECK_GRADS(f_svd_values, NULL, spread(SHAPE(3, 3)));
  CHECK_GRADS(f_svd_all, NULL, spread(SHAPE(3, 3)));
  CHECK_GRADS(f_svd_all, NULL, spread(SHAPE(4, 3)));
  CHECK_GRADS(f_svd_all, NULL, spread(SHAPE(3, 4)));
  GRADCHECK(f_svd_u, NULL, spread(SHAPE(4, 2)));
  GRADCHECK(f_svd_u, NULL, spread(SHAPE(2, 4)));
  GRADCHECK(f_svd_vh, NULL, spread(SHAPE(4, 2)));
  GRADCHECK(f_svd_vh, NULL, spread(SHAPE(2, 4)));
  GRADCHECK(f_svd_all, NULL, spread(SHAPE(2, 3, 2)));
  GRADCHECK(f_svd_full_part, NULL, spread(SHAPE(4, 2)));
  GRADCHECK(f_svd_full_part, NULL, spread(SHAPE(2, 4)));
}

static void grad_cholesky(void **state) {
  (void)state;
  CHECK_GRADS(f_cholesky, NULL, well_conditioned(SHAPE(3, 3), 2.0f));
  GRADCHECK(f_cholesky, NULL, well_conditioned(SHAPE(2, 3, 3), 2.0f));
}

static void grad_solve_inv(void **state) {
  (void)state;
  CHECK_GRADS(f_solve, NULL, well_conditioned(SHAPE(3, 3), 2.0f), ck_randn(SHAPE(3)));
  CHECK_GRADS(f_solve, NULL, well_conditioned(SHAPE(3, 3), 2.0f), ck_randn(SHAPE(3, 2)));
  CHECK_GRADS(f_solve, NULL, well_conditioned(SHAPE(2, 3, 3), 2.0f), ck_randn(SHAPE(2, 3)));
  CHECK_GRADS(f_inv, NULL, well_conditioned(SHAPE(3, 3), 2.0f));
  CHECK_GRADS(f_inv, NULL, well_conditioned(SHAPE(2, 2, 2), 2.0f));
}

static void grad_det(void **state) {
  (void)state;
  CHECK_GRADS(f_det, NULL, well_conditioned(SHAPE(3, 3), 1.5f));
  CHECK_GRADS(f_det, NULL, well_conditioned(SHAPE(2, 3, 3), 1.5f));
  CHECK_GRADS(f_logabsdet, NULL, well_conditioned(SHAPE(3, 3), 1.5f));
  /* a negative determinant: log|det| is still smooth there */
  CHECK_GRADS(f_logabsdet, NULL, well_conditioned(SHAPE(2, 3, 3), -1.5f));
}

/* }====================================================== */

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(eigh_known),
      TEST(svd_known),
      TEST(cholesky_solve_inv_det_known),
      TEST(eigh_reconstructs),
      TEST(svd_reconstructs),
      TEST(cholesky_solve_inv_reconstruct),
      TEST(batches_match_single_matrices),
      TEST(empty_matrices),
      TEST(errors),
      TEST(grad_eigh),
      TEST(grad_svd),
      TEST(grad_cholesky),
      TEST(grad_solve_inv),
      TEST(grad_det),
  };
  return cmocka_run_group_tests_name("linalg", tests, NULL, NULL);
}
