// RandomSelection.swift — RANDOM: K distinct tokens uniformly at random, reproducible from a seed.

enum RandomSelection {
    /// Partial Fisher–Yates over perm = [0, 1, …, N−1] with SplitMix64 seeded by `seed`:
    /// for i in 0 ..< K, j = i + next() mod (N − i), swap perm[i], perm[j]. The kept set is
    /// perm[0 ..< K], written ascending. (Modulo reduction: bias below 2⁻³² for N < 2³¹.)
    static func select(n: Int, k: Int, seed: UInt64, scratch: SelectionScratch, into out: IndexBuffer) {
        let perm = scratch.order, flags = scratch.flags
        var rng = SplitMix64(state: seed)
        for i in 0..<n { perm[i] = i }
        for i in 0..<k {
            let j = i + Int(rng.next() % UInt64(n - i))
            perm.swapAt(i, j)
        }
        Kernels.fill(flags.row(n), value: 0)
        for i in 0..<k { flags[perm[i]] = 1 }
        IndexSort.emitMarked(flags, n: n, mark: 1, into: out)
    }
}
