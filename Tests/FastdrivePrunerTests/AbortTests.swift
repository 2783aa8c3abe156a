// AbortTests.swift — stopping a running call from Swift through the C ABI: the callback, the
// request flag from another thread, and a handle that afterwards matches a fresh one bit for bit.

import CFastdrivePruner
import Foundation
import Synchronization
import Testing
@testable import FastdrivePruner

/// The callback's state: stop from poll `stopAt` on (0 = never).
final class Polls: @unchecked Sendable {
    let count = Atomic<Int>(0)
    let stopAt = Atomic<Int>(0)
}

private let pollCallback: fastdrive_abort_callback = { user in
    let polls = Unmanaged<Polls>.fromOpaque(user!).takeUnretainedValue()
    let n = polls.count.wrappingAdd(1, ordering: .relaxed).newValue
    let at = polls.stopAt.load(ordering: .relaxed)
    return at > 0 && n >= at
}

@Suite("Abort")
struct AbortTests {
    static let model = TestModel.file()
    let d = TestModel.config.hiddenSize

    func open(_ polls: Polls?, threads: UInt32 = 2, load: fastdrive_load = FASTDRIVE_LOAD_MMAP,
              path: String = model) -> OpaquePointer? {
        var o = fastdrive_pruner_default_options()
        o.max_tokens = 256
        o.num_threads = threads
        o.load = load
        if let polls {
            o.abort_callback = pollCallback
            o.abort_user_data = Unmanaged.passUnretained(polls).toOpaque()
        }
        var p: OpaquePointer?
        #expect(fastdrive_pruner_create(path, &o, &p) == FASTDRIVE_OK, "\(lastError(nil))")
        return p
    }

    @Test("a callback abort at any poll returns ABORTED, writes nothing, and the next call equals a fresh handle's")
    func callbackAtEveryPoll() {
        let tokens = TestModel.tokens(120)
        let fresh = open(nil)
        defer { fastdrive_pruner_destroy(fresh) }
        let (_, reference) = score(fresh, tokens, n: 120, dim: d, grid: (10, 12))
        let polls = Polls()
        let p = open(polls)
        defer { fastdrive_pruner_destroy(p) }
        _ = score(p, tokens, n: 120, dim: d, grid: (10, 12))
        let perCall = polls.count.load(ordering: .relaxed)
        #expect(perCall > 2)
        for at in 1...perCall {
            polls.count.store(0, ordering: .relaxed)
            polls.stopAt.store(at, ordering: .relaxed)
            let (status, out) = score(p, tokens, n: 120, dim: d, grid: (10, 12))
            #expect(status == FASTDRIVE_ERR_ABORTED, "stop at poll \(at)")
            #expect(out.allSatisfy { $0.isNaN }, "scores written by an aborted call")  // score() pre-fills NaN
            #expect(lastError(p).hasPrefix("fastdrive_pruner_score: stopped: the abort callback returned true"))
            polls.stopAt.store(0, ordering: .relaxed)
            let (again, scores) = score(p, tokens, n: 120, dim: d, grid: (10, 12))
            #expect(again == FASTDRIVE_OK)
            #expect(scores.map(\.bitPattern) == reference.map(\.bitPattern), "after an abort at poll \(at)")
        }
    }

    @Test("request_abort from another thread stops a running call; it holds until reset_abort")
    func requestFromAnotherThread() async {
        let p = open(nil)
        defer { fastdrive_pruner_destroy(p) }
        let tokens = TestModel.tokens(200)
        let (_, reference) = score(p, tokens, n: 200, dim: d, grid: (10, 20))
        let handle = UInt(bitPattern: p.map { UnsafeRawPointer($0) })
        let requester = Thread {
            Thread.sleep(forTimeInterval: 0.003)
            _ = fastdrive_pruner_request_abort(OpaquePointer(bitPattern: handle))
        }
        requester.start()
        var status = FASTDRIVE_OK
        var calls = 0
        while status == FASTDRIVE_OK && calls < 100_000 {
            (status, _) = score(p, tokens, n: 200, dim: d, grid: (10, 20))
            calls += 1
        }
        #expect(status == FASTDRIVE_ERR_ABORTED)
        #expect(lastError(p).contains("fastdrive_pruner_request_abort was called"))
        #expect(score(p, tokens, n: 200, dim: d, grid: (10, 20)).0 == FASTDRIVE_ERR_ABORTED)
        #expect(fastdrive_pruner_reset_abort(p) == FASTDRIVE_OK)
        let (after, scores) = score(p, tokens, n: 200, dim: d, grid: (10, 20))
        #expect(after == FASTDRIVE_OK)
        #expect(scores.map(\.bitPattern) == reference.map(\.bitPattern))
    }

    @Test("LOAD_READ scores equal LOAD_MMAP's bit for bit, and survive the file being overwritten")
    func loadWithoutMmap() throws {
        let path = TestModel.file()
        let tokens = TestModel.tokens(48)
        let mapped = open(nil, path: path), read = open(nil, load: FASTDRIVE_LOAD_READ, path: path)
        defer { fastdrive_pruner_destroy(mapped); fastdrive_pruner_destroy(read) }
        let (_, a) = score(mapped, tokens, n: 48, dim: d, grid: (6, 8))
        let (_, b) = score(read, tokens, n: 48, dim: d, grid: (6, 8))
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        let fd = Foundation.open(path, O_WRONLY)
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        var written = 0
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        while written < size - 4096 {
            written += zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, min($0.count, size - 4096 - written), off_t(4096 + written)) }
        }
        close(fd)
        let (status, c) = score(read, tokens, n: 48, dim: d, grid: (6, 8))
        #expect(status == FASTDRIVE_OK)
        #expect(c.map(\.bitPattern) == a.map(\.bitPattern))
    }
}
