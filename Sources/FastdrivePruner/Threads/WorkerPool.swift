// WorkerPool.swift — the runtime's own threads: a fixed pool that runs parallel-for jobs.
//
// Multithreading comes from here, not from OpenBLAS: its threaded sgemm allocates per call,
// while single-threaded sgemm calls made concurrently from these workers allocate nothing.
// Workers are created at create and parked on a condition variable between jobs; a job is a
// preallocated ParallelJob object published for the duration of `run`, so dispatching
// allocates nothing.
//
// fork: a child process inherits the pool's memory but none of its threads. The pool records
// the pid that created it; in any other process `run` executes every task inline on the calling
// thread (same results: tasks are independent and per-worker scratch is indexed by worker), and
// `deinit` neither wakes nor joins threads that do not exist there, nor destroys a mutex or
// condition variable that a parent's thread may have held or waited on at the fork.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

final class WorkerPool: @unchecked Sendable {
    /// Threads taking part in a job, the calling thread included.
    let threadCount: Int
    /// The process whose threads these are (see the fork note above).
    private let ownerPID = getpid()

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []

    // Guarded by `mutex`.
    private var generation = 0
    private var stopping = false
    private var busy = 0
    private var job: (any ParallelJob)?
    private var taskCount = 0

    private let nextTask = Atomic<Int>(0)

    /// Starts `threadCount - 1` workers (the caller is worker 0).
    init(threadCount: Int) throws(PrunerError) {
        self.threadCount = max(1, threadCount)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
        for id in 1..<self.threadCount {
            let context = Unmanaged.passRetained(WorkerStart(pool: self, id: id)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                // Borrow the pool at +0 for the whole loop. A call through `start.pool` retains
                // it for the call's duration, i.e. for ever: the pool's deinit (which stops and
                // joins this thread) never ran, leaking every handle's workers, pool and arena.
                Unmanaged.passUnretained(start.pool)._withUnsafeGuaranteedRef { $0.workerLoop(id: start.id) }
                return nil
            }, context)
            guard rc == 0 else {
                Unmanaged<WorkerStart>.fromOpaque(context).release()
                shutdown()
                throw .outOfMemory("cannot start worker thread \(id) of \(self.threadCount) (error \(rc))")
            }
            threads.append(thread)
        }
    }

    deinit {
        if getpid() != ownerPID {
            // A forked child: the workers are the parent's, and the parent's threads may have held
            // the mutex or waited on the conditions at the fork (glibc's cond_destroy would wait
            // for those waiters for ever). Free the memory only.
            finished.deallocate()
            wake.deallocate()
            mutex.deallocate()
            return
        }
        shutdown()
        pthread_cond_destroy(finished)
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        finished.deallocate()
        wake.deallocate()
        mutex.deallocate()
    }

    private func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
    }

    /// Runs job.run(task:worker:) for every task in 0..<tasks across the pool and returns when
    /// all are done. Tasks are handed out dynamically. No allocation. In a forked child (no
    /// workers there) every task runs inline on the calling thread.
    func run(tasks: Int, _ job: any ParallelJob) {
        guard tasks > 0 else { return }
        if threadCount == 1 || tasks == 1 || getpid() != ownerPID {
            for t in 0..<tasks { job.run(task: t, worker: 0) }
            return
        }
        pthread_mutex_lock(mutex)
        self.job = job
        taskCount = tasks
        nextTask.store(0, ordering: .relaxed)
        busy = threadCount - 1
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)

        drain(job, worker: 0)

        pthread_mutex_lock(mutex)
        while busy > 0 { pthread_cond_wait(finished, mutex) }
        self.job = nil
        pthread_mutex_unlock(mutex)
    }

    private func drain(_ job: any ParallelJob, worker: Int) {
        while true {
            let t = nextTask.wrappingAdd(1, ordering: .relaxed).oldValue
            if t >= taskCount { return }
            job.run(task: t, worker: worker)
        }
    }

    private func workerLoop(id: Int) {
        var seen = 0
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
            if stopping { break }
            seen = generation
            if let job {
                pthread_mutex_unlock(mutex)
                drain(job, worker: id)
                pthread_mutex_lock(mutex)
            }
            busy -= 1
            if busy == 0 { pthread_cond_signal(finished) }
        }
        pthread_mutex_unlock(mutex)
    }
}

/// What a new thread needs to find its pool. Unowned: the pool's deinit joins every worker
/// before its memory goes, and a strong reference would keep the pool alive for ever.
private final class WorkerStart {
    unowned(unsafe) let pool: WorkerPool
    let id: Int
    init(pool: WorkerPool, id: Int) { self.pool = pool; self.id = id }
}
