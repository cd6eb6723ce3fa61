#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sequential output to an open file through an aligned staging buffer, written with direct I/O
/// (`O_DIRECT`) where the platform and the file system allow it, buffered otherwise.
///
/// Why: a merged checkpoint is written once and not read back by this process, so the page cache
/// only costs: a buffered write copies every byte into freshly allocated cache pages, whose first
/// touch is kernel time; with direct I/O the device reads the staging buffer itself
/// (docs/PERFORMANCE.md has the measurements).
///
/// Invariant: the staging buffer holds the bytes after offset `flushed`, which is a multiple of
/// the staging capacity (a multiple of `alignment`), so every direct write starts at an aligned
/// file offset from an aligned address with an aligned length. The last partial block is written
/// padded with zeros and the file truncated to its true length. If the file system refuses direct
/// I/O (tmpfs, some network and FUSE file systems answer EINVAL), the file falls back to buffered
/// writes for the rest of its life; the bytes written are the same either way.
final class StagedFileOutput {
    /// Direct I/O needs block-aligned addresses, offsets and lengths; 4 KiB covers the logical
    /// block size of current disks (512 or 4096 bytes).
    static let alignment = 4096
    /// Bytes per write(2): large enough that the device streams, small next to a merge's memory.
    static let capacity = 8 << 20

    private let descriptor: Int32
    private let staging: UnsafeMutableRawPointer
    private var staged = 0
    private var flushed = 0
    private(set) var isDirect = false

    /// Takes over writing to `descriptor`, an empty file opened for writing; the caller closes it.
    /// `allowDirect: false` writes buffered (the tests compare both).
    init(descriptor: Int32, allowDirect: Bool = true) {
        self.descriptor = descriptor
        var memory: UnsafeMutableRawPointer?
        precondition(posix_memalign(&memory, Self.alignment, Self.capacity) == 0, "StagedFileOutput: out of memory")
        staging = memory!
        isDirect = allowDirect && Self.setDirect(descriptor, true)
    }

    deinit { free(staging) }

    /// Bytes accepted so far (the file's length after `finish()`).
    var count: Int { flushed + staged }

    /// Appends `bytes`; returns the system's error message if a write failed.
    func append(_ bytes: UnsafeRawBufferPointer) -> String? {
        var done = 0
        while done < bytes.count {
            let take = min(Self.capacity - staged, bytes.count - done)
            (staging + staged).copyMemory(from: bytes.baseAddress! + done, byteCount: take)
            staged += take
            done += take
            if staged == Self.capacity {
                if let failure = writeStaged(length: Self.capacity) { return failure }
                flushed += Self.capacity
                staged = 0
            }
        }
        return nil
    }

    /// Writes what is staged and makes the file durable (fsync); returns the error message if any.
    func finish() -> String? {
        if staged > 0 {
            let length = isDirect ? (staged + Self.alignment - 1) / Self.alignment * Self.alignment : staged
            (staging + staged).initializeMemory(as: UInt8.self, repeating: 0, count: length - staged)
            if let failure = writeStaged(length: length) { return failure }
            if length != staged && ftruncate(descriptor, off_t(flushed + staged)) != 0 {
                return "truncate failed: \(systemError())"
            }
            flushed += staged
            staged = 0
        }
        return fsync(descriptor) == 0 ? nil : "fsync failed: \(systemError())"
    }

    /// Writes the first `length` staged bytes at offset `flushed` (retrying short and interrupted
    /// writes; leaving direct I/O for good if the file system refuses it).
    private func writeStaged(length: Int) -> String? {
        var done = 0
        while done < length {
            let wrote = pwrite(descriptor, staging + done, length - done, off_t(flushed + done))
            if wrote >= 0 {
                done += wrote
                continue
            }
            if errno == EINTR { continue }
            if errno == EINVAL && isDirect && Self.setDirect(descriptor, false) {
                isDirect = false
                continue
            }
            return "write failed: \(systemError())"
        }
        return nil
    }

    /// Turns direct I/O on or off for `descriptor`; false if the platform or file system cannot.
    private static func setDirect(_ descriptor: Int32, _ on: Bool) -> Bool {
        guard let flag = directFlag else { return false }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0 else { return false }
        return fcntl(descriptor, F_SETFL, on ? flags | flag : flags & ~flag) == 0
    }

    /// Linux's O_DIRECT, which Swift's Glibc module does not export (it is behind _GNU_SOURCE).
    private static var directFlag: Int32? {
        #if os(Linux) && arch(x86_64)
        return 0o40000
        #elseif os(Linux) && arch(arm64)
        return 0o200000
        #else
        return nil
        #endif
    }
}
