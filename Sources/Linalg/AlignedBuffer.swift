/// Uninitialised scratch memory aligned to 64 bytes (a cache line, and one AVX-512 vector), freed
/// with the buffer. Used for packed GEMM panels and other per-thread workspaces.
final class AlignedBuffer<Scalar>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Scalar>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Scalar>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Scalar.self, capacity: max(1, count))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
