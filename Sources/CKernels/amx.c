// amx.c — whether the int8 and bf16 GEMMs may use Intel AMX tiles, decided once per process.
//
// AMX (tdpbusd: 16 × 16 × 64 u8·s8 products per instruction; tdpbf16ps: 16 × 16 × 32 bf16) is
// an order of magnitude above AVX-512 where it works, but it needs more than a CPUID bit: the
// OS must enable the tile state in XCR0, and Linux hands the 8 KiB tile registers to a process
// only after it asks (arch_prctl ARCH_REQ_XCOMP_PERM); the kernel refuses when a thread's
// signal stack is too small for the larger signal frame, so asking is itself the safety check.
// Hypervisors may pass the CPUID bits through without the state working, so a first small
// product is checked against the AVX-512 result before anything uses AMX. Any failure, or
// FASTDRIVE_AMX=0 in the environment, leaves the AVX-512 kernels in charge: same results for
// int8 (integer sums are exact either way), bf16 within its rounding.
#include "fastdrive_kernels.h"
#include "amx.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int cpu_has_amx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const unsigned bf16 = 1u << 22, tile = 1u << 24, int8 = 1u << 25;
    if ((d & (bf16 | tile | int8)) != (bf16 | tile | int8)) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE: xgetbv is allowed
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & (3u << 17)) != (3u << 17)) return 0;  // XTILECFG and XTILEDATA enabled by the OS
    // Palette 1 must have the geometry the kernels configure: 16 rows of 64 bytes, 8 tiles.
    if (!__get_cpuid_count(0x1d, 1, &a, &b, &c, &d)) return 0;
    return (a >> 16) >= 1024 && (b & 0xffff) >= 64 && (b >> 16) >= 8 && (c & 0xffff) >= 16;
}

static int amx_state;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void decide(void) {
    const char *env = getenv("FASTDRIVE_AMX");
    if (env && strcmp(env, "0") == 0) return;
    __builtin_cpu_init();  // the self-test and the fallbacks run the AVX-512 kernels
    if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bf16") || !cpu_has_amx()) return;
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return;
    amx_state = fdk_amx_self_test();
}

int fdk_amx_usable(void) {
    pthread_once(&amx_once, decide);
    return amx_state;
}

AMX_TARGET void fdk_amx_configure(int rows) {
    // Palette 1. Tiles 0–3 (C: 16 × 16 int32/f32) and 4–5 (A: rows of 64 bytes of k) have `rows`
    // rows; 6–7 (B: 16 k-groups × 16 columns) always 16.
    struct {
        uint8_t palette, start_row, reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
    } __attribute__((packed, aligned(64))) cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = (uint8_t)(t < 6 ? rows : 16);
    }
    _tile_loadconfig(&cfg);
}

AMX_TARGET void fdk_amx_release(void) { _tile_release(); }
#else
int fdk_amx_usable(void) { return 0; }
void fdk_amx_configure(int rows) { (void)rows; }
void fdk_amx_release(void) {}
#endif
