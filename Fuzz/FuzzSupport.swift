#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shared by every fuzz target (compiled into each target's executable by `scripts/fuzz.sh`).

/// Hands one libFuzzer input to `body` as a byte array; returns 0 (libFuzzer's "keep going").
func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: ([UInt8]) -> Void) -> Int32 {
    body(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// Records a finding when `condition` is false: prints `message` and aborts, which libFuzzer
/// reports as a crash and saves the input under the artifact prefix.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fputs("fuzz invariant violated: \(message())\n", stderr)
        abort()
    }
}

/// A private scratch directory for targets whose parser reads files, created on first use under
/// `$FUZZ_SCRATCH`, else `/dev/shm` (memory: rewriting a file per input on a disk file system
/// costs milliseconds), else `/tmp`, and removed with its files when the process exits normally.
enum FuzzScratch {
    nonisolated(unsafe) private static var path: String?

    /// The directory's path, ending in `/`.
    static var directory: String {
        if let path { return path }
        let parent = getenv("FUZZ_SCRATCH").map { String(cString: $0) } ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
        var template = Array((parent + "/isomerge-fuzz-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        require(made != nil, "cannot create a scratch directory")
        let created = String(cString: made!) + "/"
        path = created
        atexit { FuzzScratch.remove() }
        return created
    }

    /// Replaces file `name` in the scratch directory with `bytes`; returns its path.
    @discardableResult
    static func store(_ name: String, _ bytes: [UInt8]) -> String {
        let file = directory + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        require(fd >= 0, "cannot create \(file)")
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            require(wrote > 0, "cannot write \(file)")
            done += wrote
        }
        close(fd)
        return file
    }

    private static func remove() {
        guard let path, let handle = opendir(path) else { return }
        while let item = readdir(handle) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { unlink(path + name) }
        }
        closedir(handle)
        rmdir(path)
    }
}
