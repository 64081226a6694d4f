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

int lg_sgd_step(lg_tensor *p, lg_tensor *grad, lg_tensor *buf, float lr, float momentum,
                float dampening, float weight_decay, bool nesterov, bool first_step) {
  if (check_same("sgd", "parameter", p, p) || check_same("sgd", "gradient", p, grad) ||
      (momentum != 0.0f && check_same("sgd", "momentum buffer", p, buf)))
    return -1;
  float *w = lg_data(p), *b = momentum != 0.0f ? lg_data(buf) : NULL;
  const float *g = lg_data(grad);
  lg_bump_version(p);
  if (b) lg_bump_version(buf);
  int64_t n = p->numel;
  LG_PARALLEL_FOR(i, n, n >= LG_PAR_MIN, {
    float d = g[i] + weight_decay * w[i];
    if (b) {
      b[i] = first_step ? d : momentum * b[i] + (1.0f - dampening) * d;
      d = nesterov ? d + momentum * b[i] : b[i];
    }
    w[i] -= lr * d;
  });
  return 0;
}

int lg_adam_step(lg_tensor *p, lg_tensor *grad, lg_tensor *m, lg_tensor *v, float lr,
                 float beta1, float beta2, float eps, float weight_decay, int64_t step) {
  if (check_same("adam", "parameter", p, p) || check_same("adam", "gradient", p, grad) ||
      check_same("adam", "first moment", p, m) || check_same("adam", "second moment", p, v))
    return -1;
  if (step < 1) {
    lg_seterr("adam: step must be >= 1, got %lld", (long long)step);
    return -1;
  }
  /* step_size = lr / (1 - beta1^t);  denom = sqrt(v) / sqrt(1 - beta2^t) + eps */
  double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
  float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
  float *w = lg_data(p), *mm = lg_data(m), *vv = lg_data(v);
  const float *g = lg_data(grad);
  lg_bump_version(p);
  lg_bump_version(m);
  lg_bump_version(v);
  int64_t n = p->numel;
  LG_PARALLEL_FOR(i, n, n >= LG_PAR_MIN, {
    float d = g[i] + weight_decay * w[i];
    mm[i] = beta1 * mm[i] + (1.0f - beta1) * d;
    vv[i] = beta2 * vv[i] + (1.0f - beta2) * d * d;
    w[i] -= step_size * mm[i] / (sqrtf(vv[i]) / bc2_sqrt + eps);
  });
  return 0;
}

int lg_rmsprop_step(lg_tensor *p, lg_tensor *grad, lg_tensor *square_avg, lg_tensor *grad_avg,
                    lg_tensor *buf, float lr, float alpha, float eps, float weight_decay,
                    float momentum, bool centered) {
  if (check_same("rmsprop", "parameter", p, p) || check_same("rmsprop", "gradient", p, grad) ||
      check_same("rmsprop", "square average", p, square_avg) ||
      (centered && check_same("rmsprop", "gradient average", p, grad_avg)) ||
      (momentum > 0.0f && check_same("rmsprop", "momentum buffer", p, buf)))
    return -1;
  float *w = lg_data(p), *sq = lg_data(square_avg);
  float *ga = centered ? lg_data(grad_avg) : NULL, *b = momentum > 0.0f ? lg_data(buf) : NULL;
  const float *g = lg_data(grad);
  lg_bump_version(p);
  lg_bump_version(square_avg);
  if (ga) lg_bump_version(grad_avg);
  if (b) lg_bump_version(buf);
  int64_t n = p->numel;
  LG_PARALLEL_FOR(i, n, n >= LG_PAR_MIN, {
    float d = g[i] + weight_decay * w[i];
    sq[i] = alpha * sq[i] + (1.0f - alpha) * d * d;
    float var = sq[i];
    if (ga) {
      ga[i] = alpha * ga[i] + (1.0f - alpha) * d;
      var = fmaxf(var - ga[i] * ga[i], 0.0f);  /* rounding must not give sqrt(-0.0001) */
    }
    float step = d / (sqrtf(var) + eps);
    if (b) step = b[i] = momentum * b[i] + step;
    w[i] -= lr * step;
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
