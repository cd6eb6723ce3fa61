#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole small file's bytes (an index, a config, a report, a child's captured output), read with
/// POSIX calls until end of file, so pipes and `/proc` files work too. More than `limit` bytes is
/// an error, raised before reading when the file's size says so. Errors name the file.
/// Cost: the bytes read, copied once from 64 KiB chunks.
public func readWholeFile(_ path: String, limit: Int) throws(SafetensorsError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SafetensorsError(file: path, "cannot open: \(systemError())") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw SafetensorsError(file: path, "cannot stat: \(systemError())") }
    if (info.st_mode & S_IFMT) == S_IFDIR { throw SafetensorsError(file: path, "is a directory") }
    func tooLarge() -> SafetensorsError { SafetensorsError(file: path, "is larger than the \(limit)-byte limit") }
    guard Int(info.st_size) <= limit else { throw tooLarge() }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(info.st_size))
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if got < 0 {
            if errno == EINTR { continue }
            throw SafetensorsError(file: path, "read failed: \(systemError())")
        }
        if got == 0 { return bytes }
        guard bytes.count + got <= limit else { throw tooLarge() }
        bytes += chunk[..<got]
    }
}
