// amx.h — the AMX switch shared by the int8 and bf16 GEMMs (amx.c); internal to the kernels.
#ifndef FASTDRIVE_AMX_H
#define FASTDRIVE_AMX_H

#define AMX_TARGET __attribute__((target("amx-tile,amx-int8,amx-bf16,avx512f,avx512bw,avx512vl")))

/// Loads the kernels' tile configuration on this thread: 8 tiles of 64-byte rows, the
/// accumulator and A tiles (0–5) `rows` ≤ 16 rows, the B tiles (6–7) 16. Only after
/// fdk_amx_usable() said 1; pair with fdk_amx_release() before returning to the caller.
void fdk_amx_configure(int rows);

/// Returns this thread's tiles to the init state (smaller context switches and signal frames).
void fdk_amx_release(void);

/// gemm_int8.c: a small product on AMX against the AVX-512 kernel; 1 when they agree exactly.
int fdk_amx_self_test(void);

#endif
