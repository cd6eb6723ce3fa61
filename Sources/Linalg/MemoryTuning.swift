/// Process-wide allocator tuning for executables that work on large matrices (the libraries never
/// call it). Glibc returns freed blocks above its mmap threshold to the kernel, so code that
/// allocates one matrix- or tensor-sized array after another pays a page fault per 4 KiB each
/// time; keeping freed memory for reuse removed most of that kernel time in profiles (a 768² SVD:
/// 92 → 72 ms on one thread; streaming merges: −40 % kernel time). Peak RSS is unchanged: it is
/// still the largest set of arrays alive at once. `isomerge`, `linalg-bench` and `merge-bench`
/// call it first thing.
public enum MemoryTuning {
    public static func reuseFreedMemory() {
        #if os(Linux)
        // malloc.h's M_TRIM_THRESHOLD and M_MMAP_THRESHOLD (not exported by the Glibc module).
        _ = glibcMallopt(-1, 1 << 30)
        _ = glibcMallopt(-3, 1 << 30)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
