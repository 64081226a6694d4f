/*
** libFuzzer target: the IDX reader (raw and gzipped) must reject or accept
** any byte string without a crash, a leak, undefined behaviour or a huge
** allocation (libFuzzer's -rss_limit_mb catches the last).
*/
#include "tensor.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  lg_tensor *t = lg_parse_idx(data, size, "<fuzz>");
  if (t) {
    volatile float sink = 0.0f;
    const float *d = lg_data(t);
    for (int64_t i = 0; i < t->numel; i++) sink += d[i];
  }
  lg_release(t);
  return 0;
}
