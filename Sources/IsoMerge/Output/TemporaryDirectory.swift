#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A new temporary directory beside `path` (see `TemporaryName`), registered with the process's
/// `TemporaryRegistry` and locked (flock, exclusive) for as long as this object lives, so that
/// `StaleTemporaries` never takes it for a dead process's leftover. Removed with everything in it
/// by `remove()` or on deinit, unless `OutputTarget` published it.
public final class TemporaryDirectory {
    /// Where it is now (no trailing slash).
    public let path: String
    private var lockDescriptor: Int32
    /// False once published or removed.
    private(set) var isOwned = true

    public init(beside path: String) throws(SafetensorsError) {
        for attempt in 0..<100 {
            let candidate = TemporaryName.candidate(beside: path, attempt: attempt)
            if TemporaryRegistry.shared.createDirectory(candidate) {
                self.path = candidate
                lockDescriptor = open(candidate, O_RDONLY | O_CLOEXEC)
                if lockDescriptor >= 0 { _ = flock(lockDescriptor, LOCK_EX | LOCK_NB) }
                return
            }
            if errno != EEXIST {
                let directory = TemporaryName.split(path).directory
                throw SafetensorsError(file: path, "cannot create a directory in \(directory.isEmpty ? "the current directory" : directory): \(systemError())")
            }
        }
        throw SafetensorsError(file: path, "cannot create a temporary directory beside it")
    }

    deinit {
        remove()
    }

    /// Removes the directory and everything in it (nothing once published).
    public func remove() {
        guard isOwned else { return }
        TemporaryRegistry.shared.remove(path)
        disown()
    }

    /// Gives up ownership: the directory was published (renamed into place).
    func disown() {
        isOwned = false
        if lockDescriptor >= 0 { close(lockDescriptor) }
        lockDescriptor = -1
    }
}
