#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Removal of temporaries left by processes that can no longer finish them (killed by SIGKILL,
/// a crash, a power loss).
///
/// An entry is removed only when all of these prove its maker gone: its name is exactly this
/// tool's temporary pattern (`TemporaryName`); the process id in it is not this process and no
/// process has it (kill(pid, 0) fails with ESRCH); and an exclusive flock on it succeeds at once
/// (a live maker, even one in another process id namespace sharing the directory, holds that
/// lock while it writes). Symbolic links and anything else are never touched. Cost: one
/// directory listing; a removed directory is removed with everything in it.
public enum StaleTemporaries {
    /// Removes the dead makers' temporaries directly inside `directory` ("" or "." for the
    /// current one) — with `standingInFor`, only those of files with these names — and returns
    /// the names removed.
    @discardableResult
    public static func sweep(directory: String, standingInFor names: Set<String>? = nil) -> [String] {
        let path = directory.isEmpty ? "." : directory
        guard let stream = opendir(path) else { return [] }
        var candidates: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let maker = TemporaryName.maker(ofEntry: name), isGone(maker) else { continue }
            if let names, !(TemporaryName.target(ofEntry: name).map { names.contains($0) } ?? false) { continue }
            candidates.append(name)
        }
        closedir(stream)
        let prefix = path.hasSuffix("/") ? path : path + "/"
        return candidates.filter { removeIfUnlocked(prefix + $0) }
    }

    /// Whether no process has id `pid` (and it is not this one).
    static func isGone(_ pid: pid_t) -> Bool {
        pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Removes the regular file or directory at `path` if nobody holds a lock on it.
    private static func removeIfUnlocked(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        removeTree(path)
        return true
    }
}
