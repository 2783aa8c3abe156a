// thread_census.hpp — how many of this process's threads are runnable right now, from /proc/self/task.
//
// Used while mtmd, the pruner and llama.cpp take turns, to show they never run at once: a thread
// that waits (condition variable, join, futex) is in state S; one that runs or spins is R.
#ifndef FASTDRIVE_LLAMACPP_THREAD_CENSUS_HPP
#define FASTDRIVE_LLAMACPP_THREAD_CENSUS_HPP

#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace thread_census {

/// Threads in state R (running or runnable), not counting `skip_tid` (the sampling thread).
inline int runnable(long skip_tid) {
    int running = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.' || std::atol(e->d_name) == skip_tid) continue;
        char path[320], buf[512];
        std::snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = std::fopen(path, "r");
        if (!f) continue;  // the thread ended meanwhile
        const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        buf[n] = 0;
        const char *close = std::strrchr(buf, ')');  // the state follows the command name "(...)"
        running += close && close[1] == ' ' && close[2] == 'R';
    }
    closedir(d);
    return running;
}

/// All threads of the process.
inline int total() {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    while (dirent *e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

}  // namespace thread_census

#endif
