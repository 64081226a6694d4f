/*
** The thread count, shared by our OpenMP loops and OpenBLAS.
**
** luagan links Debian's OpenMP build of OpenBLAS, so both draw on one
** OpenMP thread pool; setting the count in both places keeps them from
** disagreeing (two pools busy-waiting on the same cores is the slowdown
** this design exists to avoid).  The default is the OpenMP runtime's:
** OMP_NUM_THREADS when set, otherwise one thread per core.
*/
#include "tensor.h"

#include <cblas.h>
#include <omp.h>

/* n below 1 means "one thread": the call has no way to report an error
** and a serial run is the safe reading of a nonsensical request. */
void lg_set_num_threads(int n) {
  if (n < 1) n = 1;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int lg_get_num_threads(void) { return omp_get_max_threads(); }
