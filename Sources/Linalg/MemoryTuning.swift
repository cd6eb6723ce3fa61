/// Process-wide allocator tuning for executables that work on large matrices (the libraries never
/// call it). Glibc returns freed blocks above its mmap threshold to the kernel, so code that
/// allocates one matrix- or tensor-sized array after another pays a page fault per 4 KiB each
/// time; keeping freed memory for reuse removed most of that kernel time in profiles (a 768² SVD:
/// 92 → 72 ms on one thread; streaming merges: −40 % kernel time). Peak RSS is unchanged: it is
/// still the largest set of arrays alive at once — provided the threads share their freed memory:
/// a block freed in one glibc arena is not reused by another, so with an arena per thread peak RSS
/// of a ViT-B/32 TSV-M merge wandered between 0.38 and 0.47 GB. And the trim threshold does not
/// cover a secondary arena's heaps (64 MiB regions): one whose memory is all free is unmapped at
/// once and the next allocation maps a fresh one — with two arenas an averaging merge of ViT-B/32
/// did that ~25 times and took 216 k page faults, on a VM where a first touch costs about as much
/// as copying the page. So: one arena (the hot loops do not allocate, so threads do not contend),
/// and a 64 MiB top pad, which also keeps a secondary heap that a thread started before this call
/// may own (glibc keeps a heap whose free top is within the pad): ~60 k faults, the averaging
/// merge 1.6–1.8 → 1.0–1.3 s, TSV-M peak RSS 0.31–0.32 GB. The pad is address space, not memory.
/// `isomerge`, `linalg-bench` and `merge-bench` call it first thing.
public enum MemoryTuning {
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
