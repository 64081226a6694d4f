/*
** Dense linear algebra through LAPACK (OpenBLAS's): eigh, svd, cholesky,
** solve, inv, det, slogdet on a matrix [n,n] or a batch of them [..., n, n].
**
** Precision.  Every matrix is copied into a double buffer, factorised by the
** double routines (dsyevd, dgesdd, dpotrf, dgetrf, ...) and the results are
** rounded to float32 once.  The float32 routines would at most halve an
** O(n^3) cost that is small at the sizes a GAN's metrics use (feature dims
** 64-512; here a 512 x 512 eigh takes 0.09 s of CPU, 2048 x 2048 2.2 s),
** while double keeps small eigenvalues, the determinant and solves with an
** ill-conditioned A accurate to float32 rounding instead of to cond(A) * 1e-7.
** So there is no precision option.  lg_eigh_f64 serves
** callers that keep their numbers in double end to end (the FID).
**
** Inputs holding NaN or Inf are refused with an error: an iterative
** eigensolver or SVD fed NaN may spin or return garbage, and a training run
** that produced a NaN is better told so at once.
**
** Autograd.  Each op records one node (the engine's nodes have one output).
** eigh and svd have several outputs, so they compute one packed tensor P and
** return views of it: eigh's P is [..., n+1, n], row 0 the eigenvalues and
** rows 1..n the eigenvectors; svd's P holds U's rows, a row with S, then
** Vh's rows.  Gradients flowing into the views add up in P's gradient (zeros
** for an output the loss does not use), which the node's backward splits
** again.  Every backward is written with differentiable ops (matmul, views,
** elementwise, and the ops of this file), so second order works.  The
** formulas are PyTorch's (FunctionsManual.cpp): eigh and svd assume distinct
** eigenvalues / singular values, slogdet a non-singular A.  det's gradient
** at a singular A is its cofactor matrix, from the minors' determinants.
*/
#include "internal.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {====================================================== LAPACK */

/* Fortran entry points, column-major, every argument by reference.  The
** trailing size_t arguments are the hidden lengths gfortran passes with
** CHARACTER arguments (what LAPACKE does too); we avoid a liblapacke
** dependency for six prototypes. */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
                    const int *lda, double *w, double *work, const int *lwork, int *iwork,
                    const int *liwork, int *info, size_t, size_t);
extern void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda,
                    double *s, double *u, const int *ldu, double *vt, const int *ldvt,
                    double *work, const int *lwork, int *iwork, int *info, size_t);
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
                    size_t);
extern void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv,
                    int *info);
extern void dgetrs_(const char *trans, const int *n, const int *nrhs, const double *a,
                    const int *lda, const int *ipiv, double *b, const int *ldb, int *info,
                    size_t);
extern void dgetri_(const int *n, double *a, const int *lda, const int *ipiv, double *work,
                    const int *lwork, int *info);

/* Reference LAPACK indexes a(i,j) with 32-bit ints: n*n must fit. */
#define MAX_N 46340

/* Eigen-decomposition of the symmetric n x n column-major a (its lower
** triangle is read): a becomes the eigenvectors (columns), w the ascending
** eigenvalues.  Returns LAPACK's info (> 0: no convergence) or -1 when out of
** memory. */
static int syevd(int n, double *a, double *w) {
  int lwork = -1, liwork = -1, iq, info = 0, lda = n > 1 ? n : 1;
  double q;
  dsyevd_("V", "L", &n, a, &lda, w, &q, &lwork, &iq, &liwork, &info, 1, 1);
  if (info) return info;
  lwork = (int)q, liwork = iq;
  double *work = malloc((size_t)lwork * sizeof *work);
  int *iwork = malloc((size_t)liwork * sizeof *iwork);
  if (work && iwork) dsyevd_("V", "L", &n, a, &lda, w, work, &lwork, iwork, &liwork, &info, 1, 1);
  else info = -1;
  free(work);
  free(iwork);
  return info;
}

/* SVD of the m x n column-major a (destroyed): u [m, ucols], s [min(m,n)],
** vt [vrows, n], all column-major; full selects ucols = m, vrows = n. */
static int gesdd(int m, int n, double *a, bool full, double *s, double *u, double *vt) {
  int k = m < n ? m : n, info = 0, lwork = -1;
  int lda = m > 1 ? m : 1, ldu = lda, ldvt = full ? n : k;
  if (ldvt < 1) ldvt = 1;
  const char *jobz = full ? "A" : "S";
  int *iwork = malloc((size_t)(8 * (k > 0 ? k : 1)) * sizeof *iwork);
  double q;
  if (!iwork) return -1;
  dgesdd_(jobz, &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, &q, &lwork, iwork, &info, 1);
  if (!info) {
    lwork = (int)q;
    double *work = malloc((size_t)lwork * sizeof *work);
    if (work) dgesdd_(jobz, &m, &n, a, &lda, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, &info, 1);
    else info = -1;
    free(work);
  }
  free(iwork);
  return info;
}

int lg_eigh_f64(int64_t n, double *a, double *w) {
  if (n < 0 || n > MAX_N) {
    lg_seterr("linalg.eigh: matrix size %lld out of range (0..%d)", (long long)n, MAX_N);
    return -1;
  }
  for (int64_t i = 0; i < n * n; i++) {
    if (!isfinite(a[i])) {
      lg_seterr("linalg.eigh: the matrix contains NaN or Inf");
      return -1;
    }
  }
  if (n == 0) return 0;
  /* row-major in and out: the lower triangle of the row-major matrix is the
  ** upper one of the column-major view, so transpose in place first */
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < i; j++) {
      double t = a[i * n + j];
      a[i * n + j] = a[j * n + i];
      a[j * n + i] = t;
    }
  int info = syevd((int)n, a, w);
  if (info) {
    lg_seterr(info < 0 ? "linalg.eigh: out of memory"
                       : "linalg.eigh: the eigensolver did not converge");
    return -1;
  }
  for (int64_t i = 0; i < n; i++)   /* column-major eigenvectors -> row-major, columns */
    for (int64_t j = 0; j < i; j++) {
      double t = a[i * n + j];
      a[i * n + j] = a[j * n + i];
      a[j * n + i] = t;
    }
  return 0;
}

/* The symmetric square root V diag(sqrt(max(l, 0))) V^T of a symmetric PSD
** n x n row-major matrix of doubles, in place (its lower triangle is read);
** eigenvalues below zero, rounding noise of a PSD matrix, count as zero. */
int lg_sqrtm_psd_f64(int64_t n, double *a) {
  if (n < 0 || n > MAX_N) {
    lg_seterr("linalg.sqrtm_psd: matrix size %lld out of range (0..%d)", (long long)n, MAX_N);
    return -1;
  }
  double *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
  double *vs = malloc((size_t)(n > 0 ? n * n : 1) * sizeof *vs);
  if (!w || !vs) {
    free(w);
    free(vs);
    lg_seterr("linalg.sqrtm_psd: out of memory");
    return -1;
  }
  int rc = lg_eigh_f64(n, a, w);
  if (rc == 0) {
    for (int64_t i = 0; i < n; i++) {   /* vs = V diag(sqrt l) */
      for (int64_t j = 0; j < n; j++) vs[i * n + j] = a[i * n + j] * sqrt(fmax(w[j], 0.0));
    }
    for (int64_t i = 0; i < n; i++) {   /* R = vs V^T, symmetric: the lower half, mirrored */
      for (int64_t j = 0; j <= i; j++) {
        double t = 0.0;
        for (int64_t k = 0; k < n; k++) t += vs[i * n + k] * a[j * n + k];
        w[j] = t;
      }
      for (int64_t j = 0; j <= i; j++) vs[i * n + j] = w[j];
    }
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = vs[i * n + j];
  }
  free(w);
  free(vs);
  return rc;
}

/* C = A B for row-major doubles: A m x k, B k x n, C m x n (not aliased) */
void lg_matmul_f64(int64_t m, int64_t k, int64_t n, const double *a, const double *b, double *c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    memset(c, 0, (size_t)(m * n) * sizeof *c);
    return;
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, a, (int)k,
              b, (int)n, 0.0, c, (int)n);
}

/* }====================================================== */

/* {====================================================== batches of matrices */

/* A [..., rows, cols] operand read as `batch` row-major float matrices. */
typedef struct {
  const float *data;
  float *copy;                /* owned when the tensor was not contiguous */
  int64_t batch, rows, cols;
} matrices;

/* The first nbatch dims of t are the batch; the rest hold rows x cols. */
static int open_matrices(matrices *m, const lg_tensor *t, int nbatch, int64_t rows,
                         int64_t cols) {
  m->rows = rows, m->cols = cols, m->batch = 1;
  for (int i = 0; i < nbatch; i++) m->batch *= t->shape[i];
  m->copy = NULL;
  if (lg_is_contiguous(t)) {
    m->data = lg_data(t);
    return 0;
  }
  if (!(m->copy = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float)))) {
    lg_seterr("linalg: out of memory");
    return -1;
  }
  lg_copy_to(t, m->copy);
  m->data = m->copy;
  return 0;
}

/* Matrix b of m into the column-major double buffer d. */
static void load(const matrices *m, int64_t b, double *d) {
  const float *s = m->data + b * m->rows * m->cols;
  for (int64_t i = 0; i < m->rows; i++)
    for (int64_t j = 0; j < m->cols; j++) d[i + j * m->rows] = s[i * m->cols + j];
}

/* Column-major rows x cols d (leading dimension ld) into row-major float o
** with row stride os. */
static void store(const double *d, int64_t ld, int64_t rows, int64_t cols, float *o,
                  int64_t os) {
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) o[i * os + j] = (float)d[i + j * ld];
}

static bool finite_all(const lg_tensor *t, const matrices *m) {
  for (int64_t i = 0; i < t->numel; i++)
    if (!isfinite(m->data[i])) return false;
  return true;
}

/* " (batch entry 3)" for a batch of several matrices, else "" */
static const char *entry_str(const matrices *m, int64_t b, char *buf, size_t size) {
  if (m->batch <= 1) return "";
  snprintf(buf, size, " (batch entry %lld)", (long long)b + 1);
  return buf;
}

/* t is [..., n, n] with n <= MAX_N */
static bool check_square(const char *op, const char *name, const lg_tensor *t) {
  char buf[128];
  if (t->ndim < 2 || t->shape[t->ndim - 1] != t->shape[t->ndim - 2]) {
    lg_seterr("linalg.%s: %s must be a square matrix or a batch of them [..., n, n], got %s",
              op, name, lg_shape_str(t, buf, sizeof buf));
    return false;
  }
  if (t->shape[t->ndim - 1] > MAX_N) {
    lg_seterr("linalg.%s: %s is %s; at most %d x %d is supported", op, name,
              lg_shape_str(t, buf, sizeof buf), MAX_N, MAX_N);
    return false;
  }
  return true;
}

static bool check_finite(const char *op, const char *name, const lg_tensor *t,
                         const matrices *m) {
  if (finite_all(t, m)) return true;
  lg_seterr("linalg.%s: %s contains NaN or Inf", op, name);
  return false;
}

/* Opens t after the shape and value checks. */
static int open_square(matrices *m, const char *op, const char *name, const lg_tensor *t) {
  if (!check_square(op, name, t)) return -1;
  int64_t n = t->shape[t->ndim - 1];
  if (open_matrices(m, t, t->ndim - 2, n, n)) return -1;
  if (!check_finite(op, name, t, m)) {
    free(m->copy);
    m->copy = NULL;
    return -1;
  }
  return 0;
}

/* t's batch dims followed by `keep` (0, 1 or 2) of (r, c). */
static int matrix_shape(const lg_tensor *t, int64_t *shape, int keep, int64_t r, int64_t c) {
  int nd = t->ndim - 2;
  memcpy(shape, t->shape, sizeof(int64_t) * (size_t)nd);
  if (keep >= 1) shape[nd++] = r;
  if (keep >= 2) shape[nd++] = c;
  return nd;
}

/* }====================================================== */


/* {====================================================== helpers for backward */

/* A backward pass makes many intermediate tensors: each goes into an arena
** released at the end, so that every error path is one `goto done`.
** K(var, expr) stores expr's new reference in var and the arena, and jumps
** to done when it is NULL. */
#define ARENA_MAX 48
typedef struct {
  lg_tensor *t[ARENA_MAX];
  int n;
} arena;

static lg_tensor *keep(arena *ar, lg_tensor *t) {
  if (t && ar->n == ARENA_MAX) {   /* a bug in this file, not user input */
    lg_release(t);
    return lg_seterr("linalg: internal error, backward arena full");
  }
  if (t) ar->t[ar->n++] = t;
  return t;
}

static void arena_free(arena *ar) {
  for (int i = 0; i < ar->n; i++) lg_release(ar->t[i]);
  ar->n = 0;
}

/* A result to hand out: a new reference to an arena tensor. */
static lg_tensor *out_ref(lg_tensor *t) {
  lg_retain(t);
  return t;
}

#define K(var, expr)                          \
  do {                                        \
    if (!((var) = keep(&ar, (expr)))) goto done; \
  } while (0)

/* The last two dims swapped (a view). */
static lg_tensor *mT(lg_tensor *t) { return lg_transpose(t, t->ndim - 2, t->ndim - 1); }

/* Batched product of [..., r, k] and [..., k, c] with equal batch dims;
** lg_matmul takes at most one batch dim, so fold the others into it. */
static lg_tensor *bmm(lg_tensor *a, lg_tensor *b) {
  if (a->ndim <= 3 && b->ndim <= 3) return lg_matmul(a, b);
  int nd = a->ndim;
  int64_t bt = 1, sa[3], sb[3], so[LG_MAXDIM];
  for (int i = 0; i < nd - 2; i++) bt *= a->shape[i];
  sa[0] = sb[0] = bt;
  sa[1] = a->shape[nd - 2], sa[2] = a->shape[nd - 1];
  sb[1] = b->shape[nd - 2], sb[2] = b->shape[nd - 1];
  memcpy(so, a->shape, sizeof so);
  so[nd - 1] = b->shape[nd - 1];
  lg_tensor *a3 = lg_reshape(a, 3, sa), *b3 = a3 ? lg_reshape(b, 3, sb) : NULL;
  lg_tensor *p = b3 ? lg_matmul(a3, b3) : NULL, *out = p ? lg_reshape(p, nd, so) : NULL;
  lg_release(a3);
  lg_release(b3);
  lg_release(p);
  return out;
}

/* a^T b */
static lg_tensor *tmm(lg_tensor *a, lg_tensor *b) {
  lg_tensor *at = mT(a), *p = at ? bmm(at, b) : NULL;
  lg_release(at);
  return p;
}

/* a b^T */
static lg_tensor *mmt(lg_tensor *a, lg_tensor *b) {
  lg_tensor *bt = mT(b), *p = bt ? bmm(a, bt) : NULL;
  lg_release(bt);
  return p;
}

/* [n,n] identity (diag) or ones strictly below the diagonal (!diag) */
static lg_tensor *pattern(int64_t n, bool diag) {
  int64_t s[2] = {n, n};
  lg_tensor *t = lg_zeros(2, s);
  if (t)
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j <= i; j++)
        if (diag ? i == j : j < i) lg_data(t)[i * n + j] = 1.0f;
  return t;
}

/* [..., k] -> [..., 1, k] (a row) or [..., k, 1] (a column), to broadcast */
static lg_tensor *as_row(lg_tensor *v) { return lg_unsqueeze(v, v->ndim - 1); }
static lg_tensor *as_col(lg_tensor *v) { return lg_unsqueeze(v, v->ndim); }

/* [..., n] -> [..., n, n] with v on the diagonal */
static lg_tensor *diag_embed(lg_tensor *v) {
  lg_tensor *c = as_col(v), *i = c ? pattern(v->shape[v->ndim - 1], true) : NULL;
  lg_tensor *d = i ? lg_mul(c, i) : NULL;
  lg_release(c);
  lg_release(i);
  return d;
}

/* X - X^T */
static lg_tensor *skew(lg_tensor *x) {
  lg_tensor *xt = mT(x), *d = xt ? lg_sub(x, xt) : NULL;
  lg_release(xt);
  return d;
}

/* v[j] - v[i] at [..., i, j], with ones on the diagonal: the divisor of the
** eigenvector and singular-vector terms */
static lg_tensor *gaps(lg_tensor *v) {
  arena ar = {0};
  lg_tensor *r, *c, *e, *i, *out = NULL;
  K(r, as_row(v));
  K(c, as_col(v));
  K(e, lg_sub(r, c));
  K(i, pattern(v->shape[v->ndim - 1], true));
  out = lg_add(e, i);
done:
  arena_free(&ar);
  return out;
}

static bool all_zero(const lg_tensor *t) {
  const float *base = t->storage->data;
  bool zero = true;
  FOR_EACH_OFFSET(t, off, zero = zero && base[off] == 0.0f);
  return zero;
}

/* Rows [r0, r0+nr) and columns [0, nc) of a packed [..., R, C] tensor: a
** differentiable view. */
static lg_tensor *block(lg_tensor *p, int64_t r0, int64_t nr, int64_t nc) {
  lg_tensor *r = lg_narrow(p, p->ndim - 2, r0, nr);
  lg_tensor *b = r ? lg_narrow(r, r->ndim - 1, 0, nc) : NULL;
  lg_release(r);
  return b;
}

/* Row r0 of p, columns [0, nc), as [..., nc]. */
static lg_tensor *row(lg_tensor *p, int64_t r0, int64_t nc) {
  lg_tensor *b = block(p, r0, 1, nc), *r = b ? lg_squeeze(b, b->ndim - 2) : NULL;
  lg_release(b);
  return r;
}

/* }====================================================== */

/* {====================================================== eigh */

/* gA = V (diag(gL) + skew(V^T gV) / 2 / gaps(L)) V^T, the gradient for
** symmetric perturbations (skew(.)/gaps is symmetric).  A gV of zeros (the
** vectors unused) skips the division, 0/0 at a repeated eigenvalue. */
static int bw_eigh(lg_node *nd, lg_tensor *g, lg_tensor **gin) {
  arena ar = {0};
  int64_t n = nd->ints[0];
  lg_tensor *p, *L, *V, *gL, *gV, *k, *t;
  K(p, lg_node_output(nd));
  K(L, row(p, 0, n));
  K(V, block(p, 1, n, n));
  K(gL, row(g, 0, n));
  K(gV, block(g, 1, n, n));
  K(k, diag_embed(gL));
  if (!all_zero(gV)) {
    K(t, tmm(V, gV));
    K(t, skew(t));
    K(t, lg_mul_scalar(t, 0.5f));
    K(t, lg_div(t, keep(&ar, gaps(L))));
    K(k, lg_add(k, t));
  }
  K(t, bmm(V, k));
  K(t, mmt(t, V));
  gin[0] = out_ref(t);
done:
  arena_free(&ar);
  return gin[0] ? 0 : -1;
}

/* values: [..., n] ascending; *vectors: [..., n, n] with the eigenvector of
** values[i] in column i.  Reads the lower triangle of A. */
lg_tensor *lg_linalg_eigh(lg_tensor *a, lg_tensor **vectors) {
  matrices m;
  char eb[48];
  *vectors = NULL;
  if (open_square(&m, "eigh", "A", a)) return NULL;
  int64_t n = m.rows, shape[LG_MAXDIM];
  lg_tensor *p = lg_empty(matrix_shape(a, shape, 2, n + 1, n), shape), *values = NULL;
  double *d = malloc((size_t)(n * n + n + 1) * sizeof *d);
  if (!p || !d) {
    if (p) lg_seterr("linalg.eigh: out of memory");
    goto done;
  }
  for (int64_t b = 0; b < m.batch && n > 0; b++) {
    float *o = lg_data(p) + b * (n + 1) * n;
    load(&m, b, d);
    int info = syevd((int)n, d, d + n * n);
    if (info) {
      lg_seterr(info < 0 ? "linalg.eigh: out of memory"
                         : "linalg.eigh: the eigensolver did not converge%s",
                entry_str(&m, b, eb, sizeof eb));
      goto done;
    }
    for (int64_t j = 0; j < n; j++) o[j] = (float)d[n * n + j];
    store(d, n, n, n, o + n, n);
  }
  if (lg_any_needs_grad(1, &a)) {
    lg_node *nd = lg_attach(p, "linalg.eigh", bw_eigh, 1, &a);
    if (!nd || lg_save_output(nd, p)) goto done;
    nd->ints[0] = n;
  }
  if ((values = row(p, 0, n)) && !(*vectors = block(p, 1, n, n))) {
    lg_release(values);
    values = NULL;
  }
done:
  free(d);
  free(m.copy);
  lg_release(p);
  return values;
}

/* }====================================================== */

/* {====================================================== svd */

/* PyTorch's svd_backward for real matrices, k = min(m, n), on the reduced
** factors (with full_matrices the extra columns get no gradient, as there):
**   inner = (skew(U^T gU) S + S skew(V^T gV)) / gaps(S^2) + diag(gS)
**   gA = U inner V^T + (I - U U^T) gU S^-1 V^T   (m > k)
**      = U inner V^T + U S^-1 gV^T (I - V V^T)   (n > k) */
static int bw_svd(lg_node *nd, lg_tensor *g, lg_tensor **gin) {
  arena ar = {0};
  int64_t m = nd->ints[0], n = nd->ints[1], k = m < n ? m : n;
  lg_tensor *p, *U, *S, *Vh, *V, *gU, *gS, *gV, *inner, *t, *srow, *scol, *gap;
  K(p, lg_node_output(nd));
  K(U, block(p, 0, m, k));
  K(S, row(p, m, k));
  K(Vh, block(p, m + 1, k, n));
  K(V, mT(Vh));
  K(gU, block(g, 0, m, k));
  K(gS, row(g, m, k));
  K(t, block(g, m + 1, k, n));
  K(gV, mT(t));
  bool use_u = !all_zero(gU), use_v = !all_zero(gV);
  K(inner, diag_embed(gS));
  if (use_u || use_v) {
    K(srow, as_row(S));
    K(scol, as_col(S));
    K(t, lg_mul(S, S));
    K(gap, gaps(t));
    if (use_u) {
      K(t, tmm(U, gU));
      K(t, skew(t));
      K(t, lg_mul(t, srow));
      K(t, lg_div(t, gap));
      K(inner, lg_add(inner, t));
    }
    if (use_v) {
      K(t, tmm(V, gV));
      K(t, skew(t));
      K(t, lg_mul(scol, t));
      K(t, lg_div(t, gap));
      K(inner, lg_add(inner, t));
    }
  }
  if (m > k && use_u) {          /* (U inner + (I - U U^T) gU S^-1) V^T */
    lg_tensor *gus;
    K(t, bmm(U, inner));
    K(gus, lg_div(gU, srow));
    K(t, lg_add(t, gus));
    K(gus, bmm(U, keep(&ar, tmm(U, gus))));
    K(t, lg_sub(t, gus));
    K(t, bmm(t, Vh));
  } else if (n > k && use_v) {   /* U (inner V^T + S^-1 gV^T (I - V V^T)) */
    lg_tensor *sgv;
    K(t, bmm(inner, Vh));
    K(sgv, mT(gV));
    K(sgv, lg_div(sgv, scol));
    K(t, lg_add(t, sgv));
    K(sgv, bmm(keep(&ar, bmm(sgv, V)), Vh));
    K(t, lg_sub(t, sgv));
    K(t, bmm(U, t));
  } else {
    K(t, bmm(U, inner));
    K(t, bmm(t, Vh));
  }
  gin[0] = out_ref(t);
done:
  arena_free(&ar);
  return gin[0] ? 0 : -1;
}

/* A [..., m, n] = U diag(S) Vh.  Reduced: U [..., m, k], S [..., k],
** Vh [..., k, n], k = min(m, n); full: U [..., m, m], Vh [..., n, n]. */
int lg_linalg_svd(lg_tensor *a, bool full, lg_tensor **u, lg_tensor **s, lg_tensor **vh) {
  matrices mt = {0};
  char buf[128], eb[48];
  *u = *s = *vh = NULL;
  if (a->ndim < 2) {
    lg_seterr("linalg.svd: A must be a matrix or a batch of them [..., m, n], got %s",
              lg_shape_str(a, buf, sizeof buf));
    return -1;
  }
  int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1], k = m < n ? m : n;
  if (m > MAX_N || n > MAX_N) {
    lg_seterr("linalg.svd: A is %s; at most %d rows and columns are supported",
              lg_shape_str(a, buf, sizeof buf), MAX_N);
    return -1;
  }
  if (open_matrices(&mt, a, a->ndim - 2, m, n)) return -1;
  int64_t ucols = full ? m : k, vrows = full ? n : k, w = ucols > n ? ucols : n;
  int64_t ldvt = vrows > 1 ? vrows : 1, shape[LG_MAXDIM];
  lg_tensor *p = NULL;
  double *d = NULL;
  int rc = -1;
  if (!check_finite("svd", "A", a, &mt)) goto done;
  p = lg_zeros(matrix_shape(a, shape, 2, m + 1 + vrows, w), shape);
  d = malloc((size_t)(m * n + k + m * ucols + ldvt * n + 1) * sizeof *d);
  if (!p || !d) {
    if (p) lg_seterr("linalg.svd: out of memory");
    goto done;
  }
  double *ds = d + m * n, *du = ds + k, *dvt = du + m * ucols;
  for (int64_t b = 0; b < mt.batch; b++) {
    float *o = lg_data(p) + b * (m + 1 + vrows) * w;
    if (k == 0) {              /* LAPACK wants no empty matrix: full U, Vh are I */
      for (int64_t i = 0; i < ucols; i++) o[i * w + i] = 1.0f;
      for (int64_t i = 0; i < vrows; i++) o[(m + 1 + i) * w + i] = 1.0f;
      continue;
    }
    load(&mt, b, d);
    int info = gesdd((int)m, (int)n, d, full, ds, du, dvt);
    if (info) {
      lg_seterr(info < 0 ? "linalg.svd: out of memory"
                         : "linalg.svd: the algorithm did not converge%s",
                entry_str(&mt, b, eb, sizeof eb));
      goto done;
    }
    store(du, m, m, ucols, o, w);
    for (int64_t j = 0; j < k; j++) o[m * w + j] = (float)ds[j];
    store(dvt, ldvt, vrows, n, o + (m + 1) * w, w);
  }
  if (lg_any_needs_grad(1, &a)) {
    lg_node *nd = lg_attach(p, "linalg.svd", bw_svd, 1, &a);
    if (!nd || lg_save_output(nd, p)) goto done;
    nd->ints[0] = m, nd->ints[1] = n, nd->ints[2] = full;
  }
  if (!(*u = block(p, 0, m, ucols)) || !(*s = row(p, m, k)) ||
      !(*vh = block(p, m + 1, vrows, n)))
    goto done;
  rc = 0;
done:
  if (rc) {
    lg_release(*u), lg_release(*s), lg_release(*vh);
    *u = *s = *vh = NULL;
  }
  free(d);
  free(mt.copy);
  lg_release(p);
  return rc;
}

/* }====================================================== */

/* {====================================================== cholesky */

/* Iain Murray's formula, as PyTorch writes it:
**   P = tril(L^T gL),  gA = L^-T (P + tril(P, -1)^T) / 2 L^-1 */
static int bw_cholesky(lg_node *nd, lg_tensor *g, lg_tensor **gin) {
  arena ar = {0};
  int64_t n = nd->out_shape[nd->out_ndim - 1];
  lg_tensor *L, *Li, *P, *t, *mask;
  K(L, lg_node_output(nd));
  K(P, tmm(L, g));
  K(mask, pattern(n, true));
  K(t, pattern(n, false));
  K(mask, lg_add(mask, t));
  K(P, lg_mul(P, mask));             /* tril(P) */
  K(t, lg_mul(P, keep(&ar, pattern(n, false))));
  K(t, mT(t));
  K(P, lg_add(P, t));
  K(P, lg_mul_scalar(P, 0.5f));
  K(Li, lg_linalg_inv(L));
  K(t, tmm(Li, P));
  K(t, bmm(t, Li));
  gin[0] = out_ref(t);
done:
  arena_free(&ar);
  return gin[0] ? 0 : -1;
}

/* The lower factor L of A = L L^T; reads the lower triangle of A. */
lg_tensor *lg_linalg_cholesky(lg_tensor *a) {
  matrices m;
  char eb[48];
  if (open_square(&m, "cholesky", "A", a)) return NULL;
  int n = (int)m.rows, lda = n > 1 ? n : 1, info = 0;
  lg_tensor *out = lg_zeros(a->ndim, a->shape);
  double *d = malloc((size_t)n * (size_t)n * sizeof *d + 1);
  if (!out || !d) {
    if (out) lg_seterr("linalg.cholesky: out of memory");
    goto fail;
  }
  for (int64_t b = 0; b < m.batch && n > 0; b++) {
    load(&m, b, d);
    dpotrf_("L", &n, d, &lda, &info, 1);
    if (info) {
      lg_seterr("linalg.cholesky: matrix is not positive definite (leading minor %d)%s", info,
                entry_str(&m, b, eb, sizeof eb));
      goto fail;
    }
    float *o = lg_data(out) + b * n * n;
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++) o[i * n + j] = (float)d[i + j * n];
  }
  free(d);
  free(m.copy);
  lg_node *nd = lg_track(&out, "linalg.cholesky", bw_cholesky, 1, &a);
  if (nd && lg_save_output(nd, out)) {
    lg_release(out);
    return NULL;
  }
  return out;
fail:
  free(d);
  free(m.copy);
  lg_release(out);
  return NULL;
}

/* }====================================================== */

/* {====================================================== LU: solve, inv, det */

/* LU of the n x n column-major d in place: 0, or the 1-based position of a
** zero pivot (A singular). */
static int getrf(int n, double *d, int *ipiv) {
  int info = 0, lda = n > 1 ? n : 1;
  if (n > 0) dgetrf_(&n, &n, d, &lda, ipiv, &info);
  return info;
}

/* log |det| and its sign from an LU factorisation (sign 0 when singular) */
static void lu_logdet(int n, const double *d, const int *ipiv, int info, double *sign,
                      double *logabs) {
  double s = 1.0, l = 0.0;
  if (info > 0) {
    *sign = 0.0, *logabs = -INFINITY;
    return;
  }
  for (int i = 0; i < n; i++) {
    double u = d[i + (int64_t)i * n];
    if (u < 0) s = -s, u = -u;
    if (ipiv[i] != i + 1) s = -s;
    l += log(u);
  }
  *sign = s, *logabs = l;
}

/* gB = solve(A^T, gX);  gA = -gB X^T (an outer product for vectors) */
static int bw_solve(lg_node *nd, lg_tensor *g, lg_tensor **gin) {
  arena ar = {0};
  lg_tensor *A = nd->inputs[0], *X, *At, *gB, *t;
  K(X, lg_node_output(nd));
  K(At, mT(A));
  K(gB, lg_linalg_solve(At, g));
  if (lg_wants_grad(nd, 0)) {
    if (nd->ints[0]) K(t, lg_mul(keep(&ar, as_col(gB)), keep(&ar, as_row(X))));
    else K(t, mmt(gB, X));
    K(t, lg_neg(t));
    gin[0] = out_ref(t);
  }
  if (lg_wants_grad(nd, 1)) gin[1] = out_ref(gB);
  arena_free(&ar);
  return 0;
done:
  arena_free(&ar);
  lg_release(gin[0]);
  gin[0] = NULL;
  return -1;
}

static bool solve_shapes(const lg_tensor *a, const lg_tensor *b, bool *vec) {
  char b1[128], b2[128];
  int nb = a->ndim - 2;
  int64_t n = a->shape[a->ndim - 1];
  *vec = b->ndim == a->ndim - 1;
  bool ok = *vec || b->ndim == a->ndim;
  for (int i = 0; ok && i < nb; i++) ok = b->shape[i] == a->shape[i];
  if (ok) ok = b->shape[nb] == n;
  if (!ok)
    lg_seterr("linalg.solve: A %s and B %s do not match: B must be [..., n] or [..., n, k] "
              "with A's batch dims", lg_shape_str(a, b1, sizeof b1),
              lg_shape_str(b, b2, sizeof b2));
  return ok;
}

/* X with A X = B: B [..., n] (vectors) or [..., n, k], A's batch dims. */
lg_tensor *lg_linalg_solve(lg_tensor *a, lg_tensor *b) {
  matrices ma, mb = {0};
  char eb[48];
  bool vec;
  if (open_square(&ma, "solve", "A", a)) return NULL;
  int n = (int)ma.rows, lda = n > 1 ? n : 1, info = 0, nrhs;
  lg_tensor *out = NULL;
  double *d = NULL;
  int *ipiv = NULL;
  if (!solve_shapes(a, b, &vec)) goto fail;
  nrhs = vec ? 1 : (int)b->shape[b->ndim - 1];
  if (!vec && b->shape[b->ndim - 1] > MAX_N) {
    lg_seterr("linalg.solve: B has %lld columns; at most %d are supported",
              (long long)b->shape[b->ndim - 1], MAX_N);
    goto fail;
  }
  if (open_matrices(&mb, b, a->ndim - 2, n, nrhs)) goto fail;
  if (!check_finite("solve", "B", b, &mb)) goto fail;
  out = lg_empty(b->ndim, b->shape);
  d = malloc(((size_t)n * (size_t)n + (size_t)n * (size_t)nrhs + 1) * sizeof *d);
  ipiv = malloc((size_t)(n + 1) * sizeof *ipiv);
  if (!out || !d || !ipiv) {
    if (out) lg_seterr("linalg.solve: out of memory");
    goto fail;
  }
  for (int64_t i = 0; i < ma.batch && n > 0 && nrhs > 0; i++) {
    double *x = d + (int64_t)n * n;
    load(&ma, i, d);
    load(&mb, i, x);
    if ((info = getrf(n, d, ipiv))) {
      lg_seterr("linalg.solve: A is singular%s", entry_str(&ma, i, eb, sizeof eb));
      goto fail;
    }
    dgetrs_("N", &n, &nrhs, d, &lda, ipiv, x, &lda, &info, 1);
    store(x, n, n, nrhs, lg_data(out) + i * n * nrhs, nrhs);
  }
  free(d), free(ipiv), free(ma.copy), free(mb.copy);
  lg_tensor *in[2] = {a, b};
  lg_node *nd = lg_track(&out, "linalg.solve", bw_solve, 2, in);
  if (nd) {
    nd->ints[0] = vec;
    if (lg_save_output(nd, out)) {
      lg_release(out);
      return NULL;
    }
  }
  return out;
fail:
  free(d), free(ipiv), free(ma.copy), free(mb.copy);
  lg_release(out);
  return NULL;
}

/* gA = -Y^T g Y^T with Y = A^-1 */
static int bw_inv(lg_node *nd, lg_tensor *g, lg_tensor **gin) {
  arena ar = {0};
  lg_tensor *Y, *t;
  K(Y, lg_node_output(nd));
  K(t, tmm(Y, g));
  K(t, mmt(t, Y));
  K(t, lg_neg(t));
  gin[0] = out_ref(t);
done:
  arena_free(&ar);
  return gin[0] ? 0 : -1;
}

lg_tensor *lg_linalg_inv(lg_tensor *a) {
  matrices m;
  char eb[48];
  if (open_square(&m, "inv", "A", a)) return NULL;
  int n = (int)m.rows, lda = n > 1 ? n : 1, info = 0, lwork = -1;
  lg_tensor *out = lg_empty(a->ndim, a->shape);
  double *d = malloc(((size_t)n * (size_t)n + 1) * sizeof *d), q = 0, *work = NULL;
  int *ipiv = malloc((size_t)(n + 1) * sizeof *ipiv);
  if (!out || !d || !ipiv) goto oom;
  if (n > 0) {
    dgetri_(&n, d, &lda, ipiv, &q, &lwork, &info);
    lwork = (int)q > n ? (int)q : n;
    if (!(work = malloc((size_t)lwork * sizeof *work))) goto oom;
  }
  for (int64_t b = 0; b < m.batch && n > 0; b++) {
    load(&m, b, d);
    if (getrf(n, d, ipiv)) {
      lg_seterr("linalg.inv: A is singular%s", entry_str(&m, b, eb, sizeof eb));
      goto fail;
    }
    dgetri_(&n, d, &lda, ipiv, work, &lwork, &info);
    store(d, n, n, n, lg_data(out) + b * n * n, n);
  }
  free(d), free(ipiv), free(work), free(m.copy);
  lg_node *nd = lg_track(&out, "linalg.inv", bw_inv, 1, &a);
  if (nd && lg_save_output(nd, out)) {
    lg_release(out);
    return NULL;
  }
  return out;
oom:
  if (out) lg_seterr("linalg.inv: out of memory");
fail:
  free(d), free(ipiv), free(work), free(m.copy);
  lg_release(out);
  return NULL;
}

/* sign and log|det| of every matrix of a batch, into float outputs */
static int logdets(const char *op, lg_tensor *a, float *sign, float *logabs, float *det) {
  matrices m;
  if (open_square(&m, op, "A", a)) return -1;
  int n = (int)m.rows, info;
  double *d = malloc(((size_t)n * (size_t)n + 1) * sizeof *d);
  int *ipiv = malloc((size_t)(n + 1) * sizeof *ipiv);
  if (!d || !ipiv) {
    free(d), free(ipiv), free(m.copy);
    lg_seterr("linalg.%s: out of memory", op);
    return -1;
  }
  for (int64_t b = 0; b < m.batch; b++) {
    double s, l;
    load(&m, b, d);
    info = getrf(n, d, ipiv);
    lu_logdet(n, d, ipiv, info, &s, &l);
    if (sign) sign[b] = (float)s;
    if (logabs) logabs[b] = (float)l;
    if (det) det[b] = (float)(s * exp(l));
  }
  free(d), free(ipiv), free(m.copy);
  return 0;
}

/* g (one value per matrix) times M, broadcast over each matrix */
static lg_tensor *times_g(lg_tensor *g, lg_tensor *M) {
  arena ar = {0};
  lg_tensor *t, *out = NULL;
  K(t, lg_unsqueeze(g, g->ndim));
  K(t, lg_unsqueeze(t, t->ndim));
  out = lg_mul(t, M);
done:
  arena_free(&ar);
  return out;
}

/* A 1-D index tensor of 0 .. n-1 without `skip` (none when skip < 0),
** repeated for every skip of `each` (each >= 0: n blocks, block j without j). */
static lg_tensor *index_without(int64_t n, int64_t skip, bool each) {
  int64_t len = each ? n * (n - 1) : n - 1, k = 0;
  float *v = malloc((size_t)(len > 0 ? len : 1) * sizeof *v);
  if (!v) return lg_seterr("linalg.det: out of memory");
  for (int64_t b = 0; b < (each ? n : 1); b++)
    for (int64_t i = 0; i < n; i++)
      if (i != (each ? b : skip)) v[k++] = (float)i;
  lg_tensor *t = lg_from_data(1, &len, v);
  free(v);
  return t;
}

/* Row i of the minors of A [..., n, n], n >= 2: [..., n], entry j
** det(A without row i and column j).  cols: index_without(n, -1, true). */
static lg_tensor *minors_row(lg_tensor *A, int64_t i, lg_tensor *cols) {
  arena ar = {0};
  int nd = A->ndim;
  int64_t n = A->shape[nd - 1], shape[LG_MAXDIM];
  int perm[LG_MAXDIM];
  lg_tensor *rows, *t, *out = NULL;
  K(rows, index_without(n, i, false));
  K(t, lg_index_select(A, nd - 2, rows));        /* [..., n-1, n] */
  K(t, lg_index_select(t, nd - 1, cols));        /* [..., n-1, n (n-1)]: column blocks j */
  for (int d = 0; d < nd - 2; d++) shape[d] = A->shape[d], perm[d] = d;
  shape[nd - 2] = n - 1, shape[nd - 1] = n, shape[nd] = n - 1;
  K(t, lg_reshape(t, nd + 1, shape));            /* [..., r, j, c] */
  perm[nd - 2] = nd - 1, perm[nd - 1] = nd - 2, perm[nd] = nd;
  K(t, lg_permute(t, perm));                     /* [..., j, r, c]: n minors */
  out = lg_linalg_det(t);
done:
  arena_free(&ar);
  return out;
}

/* The cofactor matrices of A [..., n, n]: adj(A)^T, which is det(A) A^-T
** when A is invertible and the gradient of det at every A, singular ones
** included: cof[..., i, j] = (-1)^(i+j) det(A without row i and column j).
** Made of differentiable ops (index_select, det of the minors), so it has a
** gradient itself; a singular minor recurses the same way.  n^2
** determinants of (n-1) x (n-1) minors: O(n^5), the price of a matrix with
** no inverse. */
static lg_tensor *cofactors(lg_tensor *A) {
  int nd = A->ndim;
  int64_t n = A->shape[nd - 1], nn[2] = {n, n};
  if (n == 1) return lg_full(nd, A->shape, 1.0f);    /* d a / d a */
  lg_tensor *cols = index_without(n, -1, true), *signs = lg_empty(2, nn), *out = NULL, *m = NULL;
  lg_tensor **rows = calloc((size_t)n, sizeof *rows);
  int64_t i = 0;
  if (!cols || !signs || !rows) {
    if (cols && signs) lg_seterr("linalg.det: out of memory");
    goto done;
  }
  for (int64_t e = 0; e < n * n; e++) lg_data(signs)[e] = (e / n + e % n) % 2 ? -1.0f : 1.0f;
  for (; i < n; i++)
    if (!(rows[i] = minors_row(A, i, cols))) goto done;
  if ((m = lg_stack(rows, (int)n, nd - 2))) out = lg_mul(m, signs);
done:
  for (int64_t r = 0; r < i && rows; r++) lg_release(rows[r]);
  free(rows);
  lg_release(m), lg_release(signs), lg_release(cols);
  return out;
}

/* gA = g det(A) A^-T = g cof(A).  A^-T where every det is nonzero (a float
** det can underflow to 0 for an invertible A: the cofactors are right
** there too); the cofactors otherwise, as the gradient at a singular
** matrix is not zero (d det / dA of [[1,2],[2,4]] is [[4,-2],[-2,1]]). */
static int bw_det(lg_node *nd, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *d = lg_node_output(nd), *A = nd->inputs[0], *M = NULL;
  if (!d) return -1;
  bool zero = false;
  lg_tensor *dc = lg_contiguous(d);
  if (dc) {
    const float *v = lg_data(dc);
    for (int64_t e = 0; e < dc->numel; e++) zero |= v[e] == 0.0f;
  }
  if (!dc) {
    gin[0] = NULL;
  } else if (zero) {
    M = cofactors(A);
    gin[0] = M ? times_g(g, M) : NULL;
  } else {
    lg_tensor *Ai = lg_linalg_inv(A), *t = Ai ? mT(Ai) : NULL, *gd = t ? lg_mul(g, d) : NULL;
    gin[0] = gd ? times_g(gd, t) : NULL;
    lg_release(Ai), lg_release(t), lg_release(gd);
  }
  lg_release(M), lg_release(dc), lg_release(d);
  return gin[0] ? 0 : -1;
}

/* gA = g A^-T.  log|det| is -inf at a singular A, where it has no gradient
** (PyTorch's backward fails there too, in its solve). */
static int bw_logabsdet(lg_node *nd, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *Ai = lg_linalg_inv(nd->inputs[0]), *t = Ai ? mT(Ai) : NULL;
  if (!Ai)
    lg_seterr("linalg.slogdet: log|det(A)| has no gradient at a singular A (it is -inf there)");
  gin[0] = t ? times_g(g, t) : NULL;
  lg_release(Ai), lg_release(t);
  return gin[0] ? 0 : -1;
}

/* det(A): [...] (0-dim for one matrix); 0 for a singular A, 1 for 0 x 0 */
lg_tensor *lg_linalg_det(lg_tensor *a) {
  int64_t shape[LG_MAXDIM];
  if (!check_square("det", "A", a)) return NULL;
  lg_tensor *out = lg_empty(matrix_shape(a, shape, 0, 0, 0), shape);
  if (!out || logdets("det", a, NULL, NULL, lg_data(out))) {
    lg_release(out);
    return NULL;
  }
  lg_node *nd = lg_track(&out, "linalg.det", bw_det, 1, &a);
  if (nd && lg_save_output(nd, out)) {
    lg_release(out);
    return NULL;
  }
  return out;
}

/* sign (no gradient: piecewise constant), *logabsdet = log |det(A)|;
** sign 0 and -inf for a singular A, as numpy and PyTorch */
lg_tensor *lg_linalg_slogdet(lg_tensor *a, lg_tensor **logabsdet) {
  int64_t shape[LG_MAXDIM];
  *logabsdet = NULL;
  if (!check_square("slogdet", "A", a)) return NULL;
  int nd = matrix_shape(a, shape, 0, 0, 0);
  lg_tensor *sign = lg_empty(nd, shape), *l = lg_empty(nd, shape);
  if (!sign || !l || logdets("slogdet", a, lg_data(sign), lg_data(l), NULL)) goto fail;
  lg_track(&l, "linalg.slogdet", bw_logabsdet, 1, &a);
  if (!l) goto fail;
  *logabsdet = l;
  return sign;
fail:
  lg_release(sign);
  lg_release(l);
  return NULL;
}

/* }====================================================== */
