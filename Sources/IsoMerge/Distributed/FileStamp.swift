#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file's size and modification time (nanoseconds), read with one stat: what tells a
/// file that was changed or replaced since it was stamped. On shared storage every client sees
/// the server's values.
struct FileStamp: Equatable, Sendable, CustomStringConvertible {
    let bytes: Int
    let modified: Int

    /// The stamp of what `path` names now (links followed), or nil if it names no regular file.
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        bytes = Int(info.st_size)
        #if canImport(Darwin)
        modified = Int(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int(info.st_mtimespec.tv_nsec)
        #else
        modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
        #endif
    }

    init(bytes: Int, modified: Int) {
        (self.bytes, self.modified) = (bytes, modified)
    }

    var description: String { "\(bytes) bytes, modified at \(modified) ns" }
}
