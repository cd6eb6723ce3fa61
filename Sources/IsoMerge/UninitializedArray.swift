extension Array {
    /// An array of `count` elements that `initialize` writes in place; it must initialize every
    /// one of them (or throw, leaving none). Cost: one allocation, no zero-filling.
    ///
    /// A count of 0 returns `[]` without calling `Array(unsafeUninitializedCapacity:)`, which in
    /// Swift 6.3 stores the count into the shared empty-array singleton even when it is 0: a write
    /// to a global that every thread reading an empty array also reads, so ThreadSanitizer reports
    /// a data race whenever empty tensors are read beside other work.
    @inline(__always)
    init<E: Error>(uninitializedCount count: Int,
                   initializingWith initialize: (UnsafeMutableBufferPointer<Element>) throws(E) -> Void) throws(E) {
        if count == 0 {
            self = []
            return
        }
        self = try Array(unsafeUninitializedCapacity: count) { (buffer, initialized) throws(E) in
            try initialize(buffer)
            initialized = count
        }
    }
}
