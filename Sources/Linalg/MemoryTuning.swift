/// Process-wide allocator tuning for executables that work on large matrices (the libraries never
/// call it). Glibc returns freed blocks above its mmap threshold to the kernel, so code that
/// allocates one matrix- or tensor-sized array after another pays a page fault per 4 KiB each
/// time; keeping freed memory for reuse removed most of that kernel time in profiles (a 768² SVD:
/// 92 → 72 ms on one thread; streaming merges: −40 % kernel time). Peak RSS is unchanged: it is
/// still the largest set of arrays alive at once — provided the threads share their freed memory:
/// glibc gives each allocating thread its own arena, and a block freed in one arena is not reused
/// by another, so with the merge engine's lanes (and their GEMM threads) peak RSS of a ViT-B/32
/// TSV-M merge wandered between 0.38 and 0.47 GB. Two arenas keep it at 0.35 GB with no
/// measurable contention (the hot loops do not allocate). `isomerge`, `linalg-bench` and
/// `merge-bench` call it first thing.
public enum MemoryTuning {
    public static func reuseFreedMemory() {
        #if os(Linux)
        // malloc.h's M_TRIM_THRESHOLD, M_MMAP_THRESHOLD and M_ARENA_MAX (not exported by the Glibc module).
        _ = glibcMallopt(-1, 1 << 30)
        _ = glibcMallopt(-3, 1 << 30)
        _ = glibcMallopt(-8, 2)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
