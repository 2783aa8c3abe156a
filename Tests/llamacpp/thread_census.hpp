// thread_census.hpp — this process's threads and their CPU time, from /proc/self/task.
//
// Shows that mtmd, the pruner and llama.cpp take turns on the cores: while llama.cpp decodes, the
// pruner's workers use no CPU time; while the pruner scores, no ggml thread exists. (Counting
// threads in state R is not enough: a thread woken only to go back to sleep is R until it gets a
// core, which on a loaded machine can take milliseconds.)
#ifndef FASTDRIVE_LLAMACPP_THREAD_CENSUS_HPP
#define FASTDRIVE_LLAMACPP_THREAD_CENSUS_HPP

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <vector>

namespace thread_census {

/// Ids of all threads of the process, ascending.
inline std::vector<long> tids() {
    std::vector<long> out;
    if (DIR *d = opendir("/proc/self/task")) {
        while (dirent *e = readdir(d))
            if (e->d_name[0] != '.') out.push_back(std::atol(e->d_name));
        closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// The threads in `after` that are not in `before` (e.g. the workers a handle started).
inline std::vector<long> started(const std::vector<long> &before, const std::vector<long> &after) {
    std::vector<long> out;
    std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(out));
    return out;
}

/// CPU time (user + system, clock ticks) the given threads have used; a thread gone counts 0.
inline long cpu_ticks(const std::vector<long> &threads) {
    long total = 0;
    for (long tid : threads) {
        char path[64], buf[1024];
        std::snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
        FILE *f = std::fopen(path, "r");
        if (!f) continue;
        const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        buf[n] = 0;
        // after "(comm) ": state, then fields 4..; utime and stime are fields 14 and 15
        const char *p = std::strrchr(buf, ')');
        if (!p) continue;
        p += 2;
        for (int field = 3; field < 14 && p; field++) p = std::strchr(p + 1, ' ');
        if (!p) continue;
        char *end = nullptr;
        const long utime = std::strtol(p, &end, 10);
        total += utime + std::strtol(end, nullptr, 10);
    }
    return total;
}

}  // namespace thread_census

#endif
