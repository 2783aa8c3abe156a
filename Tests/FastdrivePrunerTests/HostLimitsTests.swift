// HostLimitsTests.swift — what create takes from the host: memory (MemAvailable, cgroup v1/v2
// limits) and CPUs (affinity list, cgroup CPU quota), read from a fake /proc and /sys tree.

import CFastdrivePruner
import Foundation
import Testing
@testable import FastdrivePruner

@Suite("Host limits")
struct HostLimitsTests {
    /// A fake root with the given files (path relative to the root → contents).
    func tree(_ files: [String: String]) -> ControlGroup {
        let root = NSTemporaryDirectory() + "fastdrive-host-\(UUID().uuidString)"
        for (path, text) in files {
            let url = URL(fileURLWithPath: root + "/" + path)
            try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try! text.write(to: url, atomically: true, encoding: .utf8)
        }
        return ControlGroup(root: root)
    }

    let meminfo = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   16000000 kB\n"

    @Test("cgroup v2: memory.max less memory.current bounds the limit; the tightest level wins")
    func cgroupV2Memory() {
        let host = tree([
            "proc/meminfo": meminfo,
            "proc/self/cgroup": "0::/app.slice/pruner.service\n",
            "sys/fs/cgroup/app.slice/pruner.service/memory.max": "max\n",
            "sys/fs/cgroup/app.slice/pruner.service/memory.current": "1000\n",
            "sys/fs/cgroup/app.slice/memory.max": "\(600 << 20)\n",
            "sys/fs/cgroup/app.slice/memory.current": "\(100 << 20)\n",
        ])
        let limit = SystemMemory.limit(in: host)
        #expect(limit.bytes == 500 << 20)
        #expect(limit.explanation.contains("MemAvailable 15625 MiB"), "\(limit.explanation)")
        #expect(limit.explanation.contains("cgroup memory limit 600 MiB with 100 MiB in use"), "\(limit.explanation)")
        #expect(throws: PrunerError.self) { try SystemMemory.require(501 << 20, for: "x", in: host) }
        #expect(throws: Never.self) { try SystemMemory.require(500 << 20, for: "x", in: host) }
    }

    @Test("cgroup v1: memory.limit_in_bytes; its 'unlimited' value is no limit")
    func cgroupV1Memory() {
        let limited = tree([
            "proc/meminfo": meminfo,
            "proc/self/cgroup": "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
            "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "\(256 << 20)\n",
            "sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes": "\(56 << 20)\n",
        ])
        #expect(SystemMemory.limit(in: limited).bytes == 200 << 20)
        let unlimited = tree([
            "proc/meminfo": meminfo,
            "proc/self/cgroup": "5:memory:/\n",
            "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
        ])
        #expect(SystemMemory.limit(in: unlimited).bytes == 16_000_000 * 1024)
    }

    @Test("create refuses a plan over the cgroup limit with OUT_OF_MEMORY and the numbers, before allocating it")
    func createOverCgroupLimit() throws {
        let host = tree([
            "proc/meminfo": meminfo,
            "proc/self/cgroup": "0::/\n",
            "sys/fs/cgroup/memory.max": "\(8 << 20)\n",
            "sys/fs/cgroup/memory.current": "\(4 << 20)\n",
        ])
        let path = TestModel.file()
        // A small plan fits in the 4 MiB left; max_tokens = 40000 needs a bigger arena.
        _ = try Pruner(path: path, options: PrunerOptions(maxTokens: 16, threads: 1, host: host))
        #expect {
            _ = try Pruner(path: path, options: PrunerOptions(maxTokens: 40000, threads: 1, host: host))
        } throws: { error in
            guard case .outOfMemory(let m) = error as? PrunerError else { return false }
            return m.contains("max_tokens = 40000") && m.contains("but this process can get 4 MiB")
                && m.contains("cgroup memory limit 8 MiB with 4 MiB in use")
        }
        // LOAD_READ checks the file's size against the same limit.
        let tight = tree([
            "proc/meminfo": "MemAvailable: 0 kB\n", "proc/self/cgroup": "0::/\n",
        ])
        #expect {
            _ = try Pruner(path: path, options: PrunerOptions(maxTokens: 16, threads: 1, loading: 1, host: tight))
        } throws: { error in
            guard case .outOfMemory(let m) = error as? PrunerError else { return false }
            return m.contains("reading the weight file into memory") && m.contains("MemAvailable 0 MiB")
        }
    }

    @Test("num_threads = 0: the affinity list, capped by the cgroup CPU quota (v2 cpu.max, v1 cfs), rounded up")
    func usableCPUs() {
        #expect(PrunerOptions.usableCPUs(in: tree([
            "proc/thread-self/status": "Name:\tx\nCpus_allowed_list:\t0-3,8,10-11\n",
        ])) == 7)
        #expect(PrunerOptions.usableCPUs(in: tree([
            "proc/thread-self/status": "Cpus_allowed_list:\t0-7\n",
            "proc/self/cgroup": "0::/pod\n",
            "sys/fs/cgroup/pod/cpu.max": "150000 100000\n",
        ])) == 2)
        #expect(PrunerOptions.usableCPUs(in: tree([
            "proc/thread-self/status": "Cpus_allowed_list:\t0-7\n",
            "proc/self/cgroup": "0::/pod\n",
            "sys/fs/cgroup/pod/cpu.max": "max 100000\n",
        ])) == 8)
        #expect(PrunerOptions.usableCPUs(in: tree([
            "proc/thread-self/status": "Cpus_allowed_list:\t0-7\n",
            "proc/self/cgroup": "4:cpu,cpuacct:/docker/abc\n",
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000\n",
            "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
        ])) == 1)
        #expect(PrunerOptions.usableCPUs(in: tree([
            "proc/thread-self/status": "Cpus_allowed_list:\t2\n",
        ])) == 1)
        // This process: never more than the online CPUs, never 0.
        let here = PrunerOptions.usableCPUs()
        #expect(here >= 1 && here <= Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
