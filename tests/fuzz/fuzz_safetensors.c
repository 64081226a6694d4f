/*
** libFuzzer target: the safetensors parser must reject or accept any byte
** string without a crash, a leak or undefined behaviour; every value of an
** accepted file is read, so ASan checks that the sizes were right.
*/
#include "tensor.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  lg_named *ts;
  lg_meta *meta;
  int n, nmeta;
  if (lg_parse_safetensors(data, size, &ts, &n, &meta, &nmeta)) return 0;
  for (int i = 0; i < n; i++) {
    volatile float sink = 0.0f;
    const float *d = lg_data(ts[i].t);
    for (int64_t k = 0; k < ts[i].t->numel; k++) sink += d[k];
  }
  lg_free_loaded(ts, n, meta, nmeta);
  return 0;
}
