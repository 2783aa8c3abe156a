// ControlGroup.swift — the limits the kernel puts on this process: its cgroup's memory and CPU
// quota, and MemAvailable. Read at create only (file reads allocate).
//
// cgroup v2 (one unified hierarchy: /proc/self/cgroup has a "0::/path" line) keeps memory.max,
// memory.current and cpu.max in /sys/fs/cgroup/<path>; v1 keeps memory.limit_in_bytes,
// memory.usage_in_bytes, cpu.cfs_quota_us and cpu.cfs_period_us under the memory and cpu
// controllers' mounts. A limit set on an ancestor binds too, so every level from the process's
// group up to the root is read and the tightest wins. Inside a container the group path is
// often "/" (the namespace's root), where the files are the container's own.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

package struct ControlGroup: Sendable {
    /// Where /proc and /sys are found: "" for this process; tests point it at a fake tree.
    package let root: String

    package init(root: String) { self.root = root }

    /// The limits of this process.
    package static let host = ControlGroup(root: "")

    /// Bytes the process may still make resident under its cgroups: min over the levels of
    /// limit − usage; nil when no level sets a limit.
    var memoryHeadroom: (headroom: Int, limit: Int, used: Int)? {
        var best: (headroom: Int, limit: Int, used: Int)?
        for dir in directories(controller: "memory") {
            let v2 = readNumber(dir + "/memory.max"), v1 = readNumber(dir + "/memory.limit_in_bytes")
            // v1 reports "no limit" as a huge page-rounded number.
            guard let limit = v2 ?? v1, limit < (1 << 60) else { continue }
            let used = readNumber(dir + (v2 != nil ? "/memory.current" : "/memory.usage_in_bytes")) ?? 0
            let headroom = max(0, limit - used)
            if best == nil || headroom < best!.headroom { best = (headroom, limit, used) }
        }
        return best
    }

    /// CPUs' worth of time the cgroups allow (quota / period, rounded up); nil when unlimited.
    var cpuQuota: Int? {
        var best: Int?
        for dir in directories(controller: "cpu") {
            var quota: Int?, period: Int?
            if let line = readLine(dir + "/cpu.max") {
                let fields = line.split(separator: " ")
                if fields.count == 2, let q = Int(fields[0]), let p = Int(fields[1]) { quota = q; period = p }
            } else if let q = readNumber(dir + "/cpu.cfs_quota_us"), let p = readNumber(dir + "/cpu.cfs_period_us") {
                quota = q; period = p
            }
            guard let quota, let period, quota > 0, period > 0 else { continue }  // "max" or -1: none
            let cpus = max(1, (quota + period - 1) / period)
            best = min(best ?? cpus, cpus)
        }
        return best
    }

    /// CPUs in the calling thread's affinity mask (sched_getaffinity, which Glibc's Swift module
    /// does not export: the kernel's own list in /proc/thread-self/status); nil when unreadable.
    var allowedCPUs: Int? {
        guard let text = readFile(root + "/proc/thread-self/status") ?? readFile(root + "/proc/self/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
            // "0-3,8,10-11"
            var count = 0
            for range in line.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
                let ends = range.split(separator: "-").map { Int(String($0).trimmingCharacters()) }
                guard let lo = ends.first ?? nil else { return nil }
                let hi = ends.count == 2 ? (ends[1] ?? lo) : lo
                count += max(0, hi - lo + 1)
            }
            return count > 0 ? count : nil
        }
        return nil
    }

    /// MemAvailable of /proc/meminfo in bytes: what can be allocated without swapping.
    var memAvailable: Int? {
        guard let text = readFile(root + "/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kib = Int(fields[1]) { return kib * 1024 }
        }
        return nil
    }

    /// The cgroup directories of `controller` for this process, its own group first, then each
    /// ancestor up to the hierarchy's root.
    private func directories(controller: String) -> [String] {
        guard let text = readFile(root + "/proc/self/cgroup") else { return [] }
        var result: [String] = []
        for line in text.split(separator: "\n") {
            // "hierarchy-id:controllers:path"; v2's line is "0::path".
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let controllers = parts[1].split(separator: ",")
            let mount: String
            if parts[0] == "0" && parts[1].isEmpty {
                // Unified; on a hybrid host (v1 controllers too) it is mounted at .../unified.
                let hybrid = root + "/sys/fs/cgroup/unified"
                mount = access(root + "/sys/fs/cgroup/cgroup.controllers", F_OK) != 0 && access(hybrid, F_OK) == 0
                    ? hybrid : root + "/sys/fs/cgroup"
            } else if controllers.contains(Substring(controller)) {
                let v1 = root + "/sys/fs/cgroup/" + controllers.joined(separator: ",")
                mount = access(v1, F_OK) == 0 ? v1 : root + "/sys/fs/cgroup/" + controller
            } else {
                continue
            }
            var path = String(parts[2])
            while true {
                result.append(path == "/" ? mount : mount + path)
                guard path != "/", !path.isEmpty else { break }
                if let slash = path.lastIndex(of: "/") {
                    path = slash == path.startIndex ? "/" : String(path[..<slash])
                } else { break }
            }
        }
        return result
    }

    private func readNumber(_ path: String) -> Int? {
        guard let line = readLine(path) else { return nil }
        return Int(line)
    }

    private func readLine(_ path: String) -> String? {
        guard let text = readFile(path) else { return nil }
        return String(text.split(separator: "\n").first ?? "").trimmingCharacters()
    }

    /// A small text file (procfs and cgroupfs report a size of 0: read to the end).
    private func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

private extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
