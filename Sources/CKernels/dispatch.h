// dispatch.h — compiles a kernel once per x86-64 level and lets the loader pick one (ifunc).
#ifndef FASTDRIVE_DISPATCH_H
#define FASTDRIVE_DISPATCH_H

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || defined(__GNUC__))
#define FDK_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FDK_MULTIVERSION
#endif

#endif
