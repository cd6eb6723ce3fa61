#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exchanges the names `a` and `b` (both must exist) in one atomic step: Linux's
/// renameat2(RENAME_EXCHANGE), macOS's renamex_np(RENAME_SWAP). Returns 0, or -1 with errno set
/// (EINVAL, ENOSYS or ENOTSUP where the system or file system cannot).
func exchangeNames(_ a: String, _ b: String) -> Int32 {
    #if os(Linux)
    guard let renameat2 = LinuxRenameat2.function else {
        errno = ENOSYS
        return -1
    }
    return renameat2(AT_FDCWD, a, AT_FDCWD, b, LinuxRenameat2.exchange)
    #elseif canImport(Darwin)
    return renamex_np(a, b, UInt32(RENAME_SWAP))
    #else
    errno = ENOSYS
    return -1
    #endif
}

#if os(Linux)
/// glibc's renameat2 (2.28 and later), looked up at run time: Swift's Glibc module does not
/// export it (it is declared only under _GNU_SOURCE).
private enum LinuxRenameat2 {
    typealias Function = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    static let exchange: UInt32 = 2
    static let function: Function? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()
}
#endif
