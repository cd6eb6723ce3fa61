#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A new, empty temporary file beside `path` (see `TemporaryName`), registered with the
/// process's `TemporaryRegistry` and locked (flock, exclusive) through the returned descriptor,
/// which the caller keeps open while writing: the lock tells `StaleTemporaries` that its maker is
/// alive, whatever process id namespace it runs in.
func createTemporaryFile(beside path: String) throws(SafetensorsError) -> (path: String, descriptor: Int32) {
    for attempt in 0..<100 {
        let candidate = TemporaryName.candidate(beside: path, attempt: attempt)
        let fd = TemporaryRegistry.shared.createFile(candidate)
        if fd >= 0 {
            _ = flock(fd, LOCK_EX | LOCK_NB)
            return (candidate, fd)
        }
        if errno != EEXIST {
            let directory = TemporaryName.split(path).directory
            throw SafetensorsError(file: path, "cannot create a file in \(directory.isEmpty ? "the current directory" : directory): \(systemError())")
        }
    }
    throw SafetensorsError(file: path, "cannot create a temporary file beside it")
}
