/*
** Matrix products: lg_matmul (numpy rules: 1-D operands, a batch dim that
** may broadcast) and lg_linear, the fused x w^T + b at the heart of every MLP.
**
** All the arithmetic is lg_sgemm (gemm.c).  An operand goes to it in place
** whenever one of its two matrix dims has unit stride, so a transposed view
** such as w:t() costs a CblasTrans flag instead of a copy; only layouts BLAS
** cannot describe (expanded dims, slices along both dims) are first copied
** into a contiguous scratch tensor.
**
** Backward passes are written with lg_matmul and views (transpose,
** unsqueeze, reshape), so they are differentiable and create_graph gives
** second-order gradients.
*/
#include "internal.h"

#include <cblas.h>
#include <limits.h>
#include <string.h>

/* {====================================================== operands */

/* One operand seen as a batch of matrices, in the terms sgemm wants. */
typedef struct {
  const float *data;
  int64_t batch, rows, cols;
  int64_t bstride;              /* 0: the same matrix for every batch entry */
  int64_t rstride, cstride;
  CBLAS_TRANSPOSE trans;        /* filled by blas_layout */
  int64_t ld;
} operand;

/* How a tensor enters the product: the left factor (a 1-D one is a row),
** the right factor (a 1-D one is a column), or a [out,in] weight read as
** its transpose [in,out]. */
typedef enum { LEFT, RIGHT, WEIGHT_T } role;

static operand describe(const lg_tensor *t, role r) {
  operand m = {.data = lg_data(t), .batch = 1};
  int d = t->ndim;
  if (r == WEIGHT_T) {
    m.rows = t->shape[1], m.cols = t->shape[0];
    m.rstride = t->stride[1], m.cstride = t->stride[0];
  } else if (d == 1 && r == LEFT) {
    m.rows = 1, m.cols = t->shape[0], m.cstride = t->stride[0];
  } else if (d == 1) {
    m.rows = t->shape[0], m.cols = 1, m.rstride = t->stride[0];
  } else {
    m.rows = t->shape[d - 2], m.cols = t->shape[d - 1];
    m.rstride = t->stride[d - 2], m.cstride = t->stride[d - 1];
    if (d == 3) m.batch = t->shape[0], m.bstride = t->stride[0];
  }
  if (m.batch == 1) m.bstride = 0;
  return m;
}

/* Row-major as stored, or the transpose of a row-major matrix: sgemm reads
** both.  False when neither matrix dim has unit stride. */
static bool blas_layout(operand *m) {
  int64_t cs = m->cols == 1 ? 1 : m->cstride;   /* a size-1 dim's stride is never used */
  int64_t rs = m->rows == 1 ? (cs == 1 ? m->cols : 1) : m->rstride;
  if (cs == 1 && rs >= m->cols) {
    m->trans = CblasNoTrans, m->ld = rs;
    return true;
  }
  if (rs == 1 && cs >= m->rows) {
    m->trans = CblasTrans, m->ld = cs;
    return true;
  }
  return false;
}

/* Describes t for sgemm; copies it to *scratch first when BLAS cannot read
** it in place. */
static int prepare(operand *m, const lg_tensor *t, role r, lg_tensor **scratch) {
  *m = describe(t, r);
  if (blas_layout(m)) return 0;
  if (!(*scratch = lg_empty(t->ndim, t->shape))) return -1;
  lg_copy_to(t, lg_data(*scratch));
  *m = describe(*scratch, r);
  blas_layout(m);
  return 0;
}

/* }====================================================== */

/* {====================================================== the kernel */

static bool fits_int(int64_t v) { return v <= INT_MAX; }

static void sgemm(const operand *A, const operand *B, int64_t m, int64_t n, int64_t k,
                  const float *a, const float *b, float beta, float *c) {
  lg_sgemm(A->trans == CblasTrans, B->trans == CblasTrans, m, n, k, a, A->ld, b, B->ld, beta, c,
           n, true);
}

/* C[i] = A[i] B[i] (+ C[i] when beta is 1) for each of `batch` entries; C is
** contiguous [batch, m, n].  When B is shared and A's matrices lie back to
** back, the whole batch is one taller sgemm. */
static void gemm_batch(const operand *A, const operand *B, int64_t batch, float beta,
                       float *c) {
  int64_t m = A->rows, k = A->cols, n = B->cols;
  if (m == 0 || n == 0 || batch == 0) return;
  if (k == 0) {   /* an empty sum: BLAS rejects the leading dims this implies */
    if (beta == 0.0f) memset(c, 0, (size_t)(batch * m * n) * sizeof(float));
    return;
  }
  bool fold = batch > 1 && B->bstride == 0 && A->trans == CblasNoTrans &&
              A->bstride == m * A->ld && fits_int(batch * m);
  if (fold) {
    sgemm(A, B, batch * m, n, k, A->data, B->data, beta, c);
    return;
  }
  for (int64_t i = 0; i < batch; i++)
    sgemm(A, B, m, n, k, A->data + i * A->bstride, B->data + i * B->bstride, beta,
          c + i * m * n);
}

/* c (contiguous, batch*m*n floats) = a b, a and b as `ra` and `rb` say. */
static int multiply(const char *op, const lg_tensor *a, role ra, const lg_tensor *b,
                    role rb, float beta, float *c) {
  lg_tensor *sa = NULL, *sb = NULL;
  operand A, B;
  int rc = -1;
  if (prepare(&A, a, ra, &sa) || prepare(&B, b, rb, &sb)) goto done;
  if (!fits_int(A.rows) || !fits_int(B.cols) || !fits_int(A.cols) || !fits_int(A.ld) ||
      !fits_int(B.ld)) {
    lg_seterr("%s: a matrix dimension exceeds BLAS's 32-bit index range", op);
    goto done;
  }
  gemm_batch(&A, &B, A.batch > B.batch ? A.batch : B.batch, beta, c);
  rc = 0;
done:
  lg_release(sa);
  lg_release(sb);
  return rc;
}

/* }====================================================== */

/* {====================================================== matmul */

/* Checks a @ b and gives the result's shape: the batch (when an operand is
** 3-D), then m unless a is 1-D, then n unless b is 1-D. */
static bool matmul_shape(const lg_tensor *a, const lg_tensor *b, int *nd, int64_t *shape) {
  char b1[128], b2[128];
  if (a->ndim < 1 || a->ndim > 3 || b->ndim < 1 || b->ndim > 3) {
    lg_seterr("matmul: shapes %s and %s: operands must be 1-D, 2-D or 3-D",
              lg_shape_str(a, b1, sizeof b1), lg_shape_str(b, b2, sizeof b2));
    return false;
  }
  int64_t k1 = a->shape[a->ndim - 1], k2 = b->shape[b->ndim == 1 ? 0 : b->ndim - 2];
  if (k1 != k2) {
    lg_seterr("matmul: shapes %s and %s do not align (%lld vs %lld)",
              lg_shape_str(a, b1, sizeof b1), lg_shape_str(b, b2, sizeof b2),
              (long long)k1, (long long)k2);
    return false;
  }
  int64_t ba = a->ndim == 3 ? a->shape[0] : 1, bb = b->ndim == 3 ? b->shape[0] : 1;
  if (ba != bb && ba != 1 && bb != 1) {
    lg_seterr("matmul: shapes %s and %s have different batch sizes (%lld vs %lld)",
              lg_shape_str(a, b1, sizeof b1), lg_shape_str(b, b2, sizeof b2),
              (long long)ba, (long long)bb);
    return false;
  }
  *nd = 0;
  if (a->ndim == 3 || b->ndim == 3) shape[(*nd)++] = ba > bb ? ba : bb;
  if (a->ndim >= 2) shape[(*nd)++] = a->shape[a->ndim - 2];
  if (b->ndim >= 2) shape[(*nd)++] = b->shape[b->ndim - 1];
  return true;
}

/* t consumed by the op that made next: releases t, returns next. */
static lg_tensor *replace(lg_tensor *t, lg_tensor *next) {
  lg_release(t);
  return next;
}

static lg_tensor *retained(lg_tensor *t) {
  lg_retain(t);
  return t;
}

static bool wants(lg_node *n, int i) { return lg_wants_grad(n, i); }

static bool same_shape(const lg_tensor *t, const lg_tensor *u) {
  return t->ndim == u->ndim && !memcmp(t->shape, u->shape, sizeof(int64_t) * (size_t)t->ndim);
}

/* t with its last two dims swapped: a view, no copy. */
static lg_tensor *mT(lg_tensor *t) { return lg_transpose(t, t->ndim - 2, t->ndim - 1); }

/* Undoes broadcasting and 1-D promotion on a promoted-operand gradient:
** sums it down to the promoted operand's shape p, then drops the dim that
** promotion added (`dim`, or -1 for none). */
static lg_tensor *restore(lg_tensor *g, const lg_tensor *p, int dim) {
  if (g && !same_shape(g, p)) g = replace(g, lg_sum_to(g, p->ndim, p->shape));
  if (g && dim >= 0) g = replace(g, lg_squeeze(g, dim));
  return g;
}

/* d(a2 b2) for promoted operands (1-D made 2-D, g2 shaped to match):
**   da = g b^T,  db = a^T g,
** each summed over the batch where that operand was broadcast.  For a
** batch times one matrix, db's batch sum is folded into a single product:
** reshape a to [batch*m, k] and g to [batch*m, n]. */
static lg_tensor *grad_left(lg_tensor *b2, lg_tensor *g2) {
  lg_tensor *bt = mT(b2);
  lg_tensor *ga = bt ? lg_matmul(g2, bt) : NULL;
  lg_release(bt);
  return ga;
}

static lg_tensor *grad_right(lg_tensor *a2, lg_tensor *b2, lg_tensor *g2) {
  lg_tensor *at = NULL, *gf = NULL, *gb = NULL;
  if (a2->ndim == 3 && b2->ndim == 2) {
    int64_t rows = a2->shape[0] * a2->shape[1];
    int64_t sa[2] = {rows, a2->shape[2]}, sg[2] = {rows, g2->shape[2]};
    lg_tensor *af = lg_reshape(a2, 2, sa);
    at = af ? lg_transpose(af, 0, 1) : NULL;
    lg_release(af);
    gf = lg_reshape(g2, 2, sg);
    if (at && gf) gb = lg_matmul(at, gf);
  } else if ((at = mT(a2))) {
    gb = lg_matmul(at, g2);
  }
  lg_release(at);
  lg_release(gf);
  return gb;
}

static int bw_matmul(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *a = n->inputs[0], *b = n->inputs[1];
  bool a_vec = a->ndim == 1, b_vec = b->ndim == 1;
  /* promote 1-D operands to matrices so that one pair of formulas serves */
  lg_tensor *a2 = a_vec ? lg_unsqueeze(a, 0) : retained(a);
  lg_tensor *b2 = b_vec ? lg_unsqueeze(b, 1) : retained(b);
  lg_tensor *g2 = retained(g);
  if (b_vec) g2 = replace(g2, lg_unsqueeze(g2, g2->ndim));
  if (g2 && a_vec) g2 = replace(g2, lg_unsqueeze(g2, g2->ndim - 1));
  int rc = -1;
  if (!a2 || !b2 || !g2) goto done;
  if (wants(n, 0) && !(gin[0] = restore(grad_left(b2, g2), a2, a_vec ? 0 : -1)))
    goto done;
  if (wants(n, 1) && !(gin[1] = restore(grad_right(a2, b2, g2), b2, b_vec ? 1 : -1)))
    goto done;
  rc = 0;
done:
  if (rc) {                       /* the engine takes gradients only on success */
    lg_release(gin[0]);
    gin[0] = NULL;
  }
  lg_release(a2);
  lg_release(b2);
  lg_release(g2);
  return rc;
}

lg_tensor *lg_matmul(lg_tensor *a, lg_tensor *b) {
  int nd;
  int64_t shape[3];
  if (!matmul_shape(a, b, &nd, shape)) return NULL;
  lg_tensor *out = lg_empty(nd, shape);
  if (!out) return NULL;
  if (multiply("matmul", a, LEFT, b, RIGHT, 0.0f, lg_data(out))) goto fail;
  lg_tensor *in[2] = {a, b};
  if (lg_any_needs_grad(2, in) && !lg_attach(out, "matmul", bw_matmul, 2, in)) goto fail;
  return out;
fail:
  lg_release(out);
  return NULL;
}

/* }====================================================== */

/* {====================================================== linear */

static bool linear_check(const lg_tensor *x, const lg_tensor *w, const lg_tensor *b) {
  char b1[128], b2[128];
  if (w->ndim != 2) {
    lg_seterr("linear: weight must be 2-D [out,in], got %s", lg_shape_str(w, b1, sizeof b1));
    return false;
  }
  if (x->ndim != 1 && x->ndim != 2) {
    lg_seterr("linear: input must be [N,in] or [in], got %s", lg_shape_str(x, b1, sizeof b1));
    return false;
  }
  int64_t in = x->shape[x->ndim - 1];
  if (in != w->shape[1]) {
    lg_seterr("linear: input %s does not match weight %s (%lld vs %lld)",
              lg_shape_str(x, b1, sizeof b1), lg_shape_str(w, b2, sizeof b2),
              (long long)in, (long long)w->shape[1]);
    return false;
  }
  if (b && (b->ndim != 1 || b->shape[0] != w->shape[0])) {
    lg_seterr("linear: bias %s does not match weight %s (expected [%lld])",
              lg_shape_str(b, b1, sizeof b1), lg_shape_str(w, b2, sizeof b2),
              (long long)w->shape[0]);
    return false;
  }
  return true;
}

/*   gx = g w,  gw = g^T x (an outer product for a 1-D x),  gb = sum of g's rows */
static int bw_linear(lg_node *n, lg_tensor *g, lg_tensor **gin) {
  lg_tensor *x = n->inputs[0], *w = n->inputs[1], *t;
  if (wants(n, 0) && !(gin[0] = lg_matmul(g, w))) goto fail;
  if (wants(n, 1)) {
    t = x->ndim == 2 ? lg_transpose(g, 0, 1) : lg_unsqueeze(g, 1);
    gin[1] = !t ? NULL : x->ndim == 2 ? lg_matmul(t, x) : lg_mul(t, x);
    lg_release(t);
    if (!gin[1]) goto fail;
  }
  if (wants(n, 2) && !(gin[2] = x->ndim == 2 ? lg_sum_dim(g, 0, false) : retained(g)))
    goto fail;
  return 0;
fail:                             /* the engine takes gradients only on success */
  for (int i = 0; i < 3; i++) {
    lg_release(gin[i]);
    gin[i] = NULL;
  }
  return -1;
}

/* Every row of y (rows x cols, contiguous) = b. */
static void fill_rows(float *y, int64_t rows, int64_t cols, const lg_tensor *b) {
  if (b->stride[0] == 1) {
    memcpy(y, lg_data(b), (size_t)cols * sizeof(float));
  } else {
    const float *bd = lg_data(b);
    for (int64_t j = 0; j < cols; j++) y[j] = bd[j * b->stride[0]];
  }
  for (int64_t i = 1; i < rows; i++) memcpy(y + i * cols, y, (size_t)cols * sizeof(float));
}

/* y = x w^T + b as one sgemm: y starts as b in every row, then beta = 1. */
lg_tensor *lg_linear(lg_tensor *x, lg_tensor *w, lg_tensor *b) {
  if (!linear_check(x, w, b)) return NULL;
  int64_t rows = x->ndim == 2 ? x->shape[0] : 1, outf = w->shape[0];
  int64_t shape[2] = {rows, outf};
  lg_tensor *out = x->ndim == 2 ? lg_empty(2, shape) : lg_empty(1, &outf);
  if (!out) return NULL;
  if (b && out->numel > 0) fill_rows(lg_data(out), rows, outf, b);
  if (multiply("linear", x, LEFT, w, WEIGHT_T, b ? 1.0f : 0.0f, lg_data(out))) goto fail;
  lg_tensor *in[3] = {x, w, b};
  if (lg_any_needs_grad(3, in) && !lg_attach(out, "linear", bw_linear, 3, in)) goto fail;
  return out;
fail:
  lg_release(out);
  return NULL;
}

/* }====================================================== */
