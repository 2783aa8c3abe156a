// ProcessExit.swift — calls in flight when the process exits finish before OpenBLAS is torn down.
//
// exit() runs the atexit handlers, then the shared libraries' destructors; OpenBLAS's destructor
// frees the work buffers that its sgemm is using in any thread still inside a score (the host
// returned from main while a worker or a Python daemon thread was scoring): a SIGSEGV at exit in
// about one run in forty. So the first create registers an atexit handler (it runs before every
// library destructor) that lets the calls in flight finish, waiting up to `drainSeconds`. From
// then on a call from another thread does not start (FASTDRIVE_ERR_UNSUPPORTED, "the process is
// exiting"): blocking it instead could deadlock an exit path that joins that thread. Calls from
// the exiting thread itself (a C++ static destructor) still run: nothing is torn down yet.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

enum ProcessExit {
    /// Calls inside a gated entry point, in every thread.
    private static let inFlight = Atomic<Int>(0)
    /// Set by the exit handler; then the thread running exit's handlers.
    private static let exiting = Atomic<Bool>(false)
    private static let exitingThread = Atomic<UInt>(0)
    /// The exit handler's bound on the calls it waits for (a full-size frame takes ~1 s).
    static let drainSeconds = 10

    /// Registers the exit handler, once per process (forked children inherit it), and a fork
    /// handler: a child has only the forking thread, which is not inside a call, so the count it
    /// inherits from the parent's other threads must not make its own exit wait for them.
    static let registered: Void = {
        _ = atexit { ProcessExit.drain() }
        pthread_atfork(nil, nil) { ProcessExit.inFlight.store(0, ordering: .sequentiallyConsistent) }
    }()

    /// Enters a gated call: false (do not start) once the process is exiting, unless on the
    /// exiting thread. Pair a true result with `leave()`. No allocation.
    static func enter() -> Bool {
        inFlight.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if exiting.load(ordering: .sequentiallyConsistent)
            && exitingThread.load(ordering: .sequentiallyConsistent) != currentThread {
            inFlight.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }

    static func leave() {
        inFlight.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }

    /// The refusal a gated call returns once the process is exiting.
    static var refusal: PrunerError {
        .unsupported("the process is exiting (exit() has begun): no new call starts; calls already running were allowed to finish")
    }

    /// The atexit handler: stop new calls, then wait for the running ones.
    private static func drain() {
        exitingThread.store(currentThread, ordering: .sequentiallyConsistent)
        exiting.store(true, ordering: .sequentiallyConsistent)
        var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
        var waited = 0
        while inFlight.load(ordering: .sequentiallyConsistent) > 0 && waited < drainSeconds * 1000 {
            nanosleep(&pause, nil)
            waited += 1
        }
    }

    private static var currentThread: UInt { UInt(pthread_self()) }
}
