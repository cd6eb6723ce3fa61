/// Process-wide allocator tuning for executables that work on large matrices (the libraries never
/// call it; `isomerge`, `linalg-bench` and `merge-bench` call it first thing).
///
/// Programs that allocate one matrix- or tensor-sized array after another otherwise pay a page
/// fault per 4 KiB each time, because glibc returns freed blocks above its mmap threshold to the
/// kernel. Measurements: docs/PERFORMANCE.md.
public enum MemoryTuning {
    /// Makes glibc keep freed memory for reuse instead of unmapping it, shared by all threads.
    ///
    /// Sets the trim and mmap thresholds to 1 GiB (freed blocks stay in the heap), a 64 MiB top
    /// pad (a heap whose free top is within it is kept, secondary heaps included), and one arena
    /// (a block freed by one thread is reusable by every other; the hot loops do not allocate, so
    /// threads do not contend). Peak RSS stays the largest set of arrays alive at once; the pad is
    /// address space, not memory. Call it first thing. No effect off Linux.
    public static func reuseFreedMemory() {
        #if os(Linux)
        // malloc.h's M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD and M_ARENA_MAX (not exported by the Glibc module).
        _ = glibcMallopt(-1, 1 << 30)
        _ = glibcMallopt(-2, 64 << 20)
        _ = glibcMallopt(-3, 1 << 30)
        _ = glibcMallopt(-8, 1)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
