/// Process-wide allocator tuning for executables that stream large tensors (the library itself
/// never calls this). Glibc returns every freed block above its mmap threshold to the kernel, so
/// a merge that allocates one tensor-sized array after another pays a page fault per 4 KiB each
/// time; keeping freed memory for reuse removed most of that kernel time in profiles. Peak RSS is
/// unchanged: it is still the largest set of arrays alive at once.
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
