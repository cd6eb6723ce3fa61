#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Every temporary file and directory this process has made and not yet published or removed,
/// so that an interrupted process can remove exactly its own (`removeAllAndExit`).
///
/// Invariant: a temporary is created, renamed into place and exchanged only while the lock is
/// held, and it is in the registry from the moment it exists until it is published or removed.
/// `removeAllAndExit` takes the lock and never releases it, so no temporary can appear or be
/// published while it runs: after it, none of this process's temporaries exist, and every
/// published output is whole. Writes into files already open go on meanwhile; they add no names.
public final class TemporaryRegistry: @unchecked Sendable {
    /// The process's registry.
    public static let shared = TemporaryRegistry()

    private let lock = NSLock()
    /// Registered paths in creation order (a directory before what is made inside it).
    private var paths: [String] = []

    private init() {}

    /// Creates the file `path` (which must not exist), registered; the open descriptor, or -1 with errno set.
    func createFile(_ path: String) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd >= 0 { paths.append(path) }
        return fd
    }

    /// Creates the directory `path`, registered; false with errno set if it could not.
    func createDirectory(_ path: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard mkdir(path, 0o755) == 0 else { return false }
        paths.append(path)
        return true
    }

    /// Renames the registered temporary `path` to `destination` (replacing it, as rename(2) does)
    /// and forgets it; false with errno set if the rename failed (it stays registered).
    func publish(_ path: String, as destination: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard rename(path, destination) == 0 else { return false }
        forget(path)
        return true
    }

    /// Puts the registered temporary directory `temporary` in place of the existing directory
    /// `destination`. Where the system exchanges two names atomically, that is one step and the old
    /// content then lies at `temporary`, still registered; elsewhere `destination` is renamed to
    /// `aside` (registered from then on) and `temporary` renamed into its place, so an interruption
    /// between the two leaves no `destination`. Returns the path now holding the old content, or nil
    /// with errno set when nothing changed.
    func replace(_ destination: String, with temporary: String, aside: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        if exchangeNames(temporary, destination) == 0 { return temporary }
        guard errno == EINVAL || errno == ENOSYS || errno == ENOTSUP else { return nil }
        guard rename(destination, aside) == 0 else { return nil }
        paths.append(aside)
        guard rename(temporary, destination) == 0 else {
            let failure = errno
            rename(aside, destination)
            forget(aside)
            errno = failure
            return nil
        }
        forget(temporary)
        return aside
    }

    /// Removes the registered temporary `path` (a file, or a directory with everything in it) and forgets it.
    func remove(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        removeTree(path)
        forget(path)
    }

    /// Removes every registered temporary, newest first, and ends the process with `status`
    /// (without releasing the lock, so nothing can be created or published meanwhile). For
    /// signal handling, from an ordinary thread.
    public func removeAllAndExit(status: Int32) -> Never {
        lock.lock()
        for path in paths.reversed() { removeTree(path) }
        paths = []
        _exit(status)
    }

    private func forget(_ path: String) {
        if let index = paths.lastIndex(of: path) { paths.remove(at: index) }
    }
}

/// Removes `path`: a file or symbolic link, or a directory with everything below it (without
/// following symbolic links). Missing is fine.
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        if let directory = opendir(path) {
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(directory)
            for name in names { removeTree(path + "/" + name) }
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}
