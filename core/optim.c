/*
** Optimizer update loops: one fused pass over a parameter and its state.
**
** The formulas are PyTorch's (torch/optim/{sgd,adam,rmsprop}.py, 1.13), with
** L2 weight decay added to the gradient as they do, so that a model trained
** here and there follows the same trajectory up to float rounding.
** Parameters and state are updated in place and never recorded in a graph.
*/
#include "internal.h"

#include <math.h>
#include <string.h>

/* Every tensor of an update must be contiguous with the parameter's shape. */
static int check_same(const char *op, const char *what, const lg_tensor *p,
                      const lg_tensor *t) {
  char b1[128], b2[128];
  if (!t) {
    lg_seterr("%s: %s is missing", op, what);
    return -1;
  }
  if (t->ndim != p->ndim || memcmp(t->shape, p->shape, sizeof(int64_t) * (size_t)p->ndim)) {
    lg_seterr("%s: %s has shape %s but the parameter has shape %s", op, what,
              lg_shape_str(t, b1, sizeof b1), lg_shape_str(p, b2, sizeof b2));
    return -1;
  }
  if (!lg_is_contiguous(t)) {
    lg_seterr("%s: %s must be contiguous", op, what);
    return -1;
  }
  return 0;
}

int lg_sgd_step(lg_tensor *p, lg_tensor *grad, lg_tensor *buf, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool first_step) {
  if (check_same("sgd", "parameter", p, p) || check_same("sgd", "gradient", p, grad) ||
      (momentum != 0.0 && check_same("sgd", "momentum buffer", p, buf)))
    return -1;
  const float lr_f = (float)lr, mom = (float)momentum, keep = (float)(1.0 - dampening),
              wd = (float)weight_decay;
  float *w = lg_data(p), *b = momentum != 0.0 ? lg_data(buf) : NULL;
  const float *g = lg_data(grad);
  lg_bump_version(p);
  if (b) lg_bump_version(buf);
  int64_t n = p->numel;
  LG_PARALLEL_FOR(i, n, n >= LG_PAR_MIN, {
    float d = g[i] + wd * w[i];
    if (b) {
      b[i] = first_step ? d : mom * b[i] + keep * d;
      d = nesterov ? d + mom * b[i] : b[i];
    }
    w[i] -= lr_f * d;
  });
  return 0;
}

int lg_adam_step(lg_tensor *p, lg_tensor *grad, lg_tensor *m, lg_tensor *v, double lr,
                 double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  if (check_same("adam", "parameter", p, p) || check_same("adam", "gradient", p, grad) ||
      check_same("adam", "first moment", p, m) || check_same("adam", "second moment", p, v))
    return -1;
  if (step < 1) {
    lg_seterr("adam: step must be >= 1, got %lld", (long long)step);
    return -1;
  }
  /* step_size = lr / (1 - beta1^t);  denom = sqrt(v) / sqrt(1 - beta2^t) + eps */
  double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
  const float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2), eps_f = (float)eps;
  /* 1 - beta in double, then rounded: in float, 1 - 0.999f is 1.3e-5 off 0.001 */
  const float b1 = (float)beta1, b2 = (float)beta2, wd = (float)weight_decay;
  const float omb1 = (float)(1.0 - beta1), omb2 = (float)(1.0 - beta2);
  float *w = lg_data(p), *mm = lg_data(m), *vv = lg_data(v);
  const float *g = lg_data(grad);
  lg_bump_version(p);
  lg_bump_version(m);
  lg_bump_version(v);
  int64_t n = p->numel;
  LG_PARALLEL_FOR(i, n, n >= LG_PAR_MIN, {
    float d = g[i] + wd * w[i];
    mm[i] = b1 * mm[i] + omb1 * d;
    vv[i] = b2 * vv[i] + omb2 * d * d;
    w[i] -= step_size * mm[i] / (sqrtf(vv[i]) / bc2_sqrt + eps_f);
  });
  return 0;
}

int lg_rmsprop_step(lg_tensor *p, lg_tensor *grad, lg_tensor *square_avg, lg_tensor *grad_avg,
                    lg_tensor *buf, double lr, double alpha, double eps, double weight_decay,
                    double momentum, bool centered) {
  if (check_same("rmsprop", "parameter", p, p) || check_same("rmsprop", "gradient", p, grad) ||
      check_same("rmsprop", "square average", p, square_avg) ||
      (centered && check_same("rmsprop", "gradient average", p, grad_avg)) ||
      (momentum > 0.0 && check_same("rmsprop", "momentum buffer", p, buf)))
    return -1;
  const float lr_f = (float)lr, a = (float)alpha, oma = (float)(1.0 - alpha), eps_f = (float)eps,
              wd = (float)weight_decay, mom = (float)momentum;
  float *w = lg_data(p), *sq = lg_data(square_avg);
  float *ga = centered ? lg_data(grad_avg) : NULL, *b = momentum > 0.0 ? lg_data(buf) : NULL;
  const float *g = lg_data(grad);
  lg_bump_version(p);
  lg_bump_version(square_avg);
  if (ga) lg_bump_version(grad_avg);
  if (b) lg_bump_version(buf);
  int64_t n = p->numel;
  LG_PARALLEL_FOR(i, n, n >= LG_PAR_MIN, {
    float d = g[i] + wd * w[i];
    sq[i] = a * sq[i] + oma * d * d;
    float var = sq[i];
    if (ga) {
      ga[i] = a * ga[i] + oma * d;
      var = fmaxf(var - ga[i] * ga[i], 0.0f);  /* rounding must not give sqrt(-0.0001) */
    }
    float step = d / (sqrtf(var) + eps_f);
    if (b) step = b[i] = mom * b[i] + step;
    w[i] -= lr_f * step;
  });
  return 0;
}

int lg_clip_(lg_tensor *t, float lo, float hi) {
  if (!(lo <= hi)) {
    lg_seterr("clip: min %g is greater than max %g", lo, hi);
    return -1;
  }
  lg_bump_version(t);
  if (lg_is_contiguous(t)) {
    float *d = lg_data(t);
    for (int64_t i = 0; i < t->numel; i++) d[i] = fminf(fmaxf(d[i], lo), hi);
  } else {
    float *base = t->storage->data;
    FOR_EACH_OFFSET(t, off, base[off] = fminf(fmaxf(base[off], lo), hi));
  }
  return 0;
}

double lg_norm2(lg_tensor **ts, int n) {
  double sum = 0.0;
  for (int k = 0; k < n; k++) {
    const lg_tensor *t = ts[k];
    if (!t) continue;
    const float *base = t->storage->data;
    FOR_EACH_OFFSET(t, off, sum += (double)base[off] * base[off]);
  }
  return sqrt(sum);
}
