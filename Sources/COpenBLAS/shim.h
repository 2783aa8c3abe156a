// shim.h — exposes OpenBLAS's CBLAS interface (Debian's libopenblas-dev) to Swift.
#include <cblas.h>
