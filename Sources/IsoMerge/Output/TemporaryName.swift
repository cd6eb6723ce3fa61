#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The names of this tool's temporary files and directories, and how to recognise them.
///
/// A temporary for `DIR/NAME` is `DIR/.NAME.tmp-PID-RANDOM-ATTEMPT`: hidden, in the same
/// directory (so that publishing it is a rename within one file system), and carrying the id of
/// the process that made it, so that a later run can tell whether its maker is gone.
/// (`.isomerge-search-PID`, the α search's scratch directory of earlier versions, is recognised
/// too, so that their leftovers are cleaned up.)
enum TemporaryName {
    /// The directory part of `path` with its trailing slash ("" for the current directory), and
    /// the last component.
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    /// A fresh candidate name beside `path` for this process (the `attempt`-th try).
    static func candidate(beside path: String, attempt: Int) -> String {
        let (directory, name) = split(path)
        return "\(directory).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(attempt)"
    }

    /// The id of the process that made the temporary named `entry` (a directory entry's name),
    /// or nil if `entry` is not named like one of this tool's temporaries.
    static func maker(ofEntry entry: String) -> pid_t? {
        guard entry.hasPrefix(".") else { return nil }
        if entry.hasPrefix(legacySearchPrefix) {
            return processID(entry.dropFirst(legacySearchPrefix.count))
        }
        // .NAME.tmp-PID-RANDOM-ATTEMPT: the last three dash-separated fields are numbers, and NAME
        // (not empty) may hold dashes itself (`run-2`, or a temporary's name for one made beside it).
        let fields = entry.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, UInt32(fields[fields.count - 2]) != nil, UInt32(fields[fields.count - 1]) != nil else { return nil }
        let stem = fields[..<(fields.count - 3)].joined(separator: "-")
        guard stem.hasSuffix(".tmp"), stem.count > ".tmp".count + 1 else { return nil }
        return processID(fields[fields.count - 3])
    }

    /// The name of the file or directory that the temporary named `entry` stands in for (NAME in
    /// `.NAME.tmp-PID-RANDOM-ATTEMPT`), or nil if `entry` is not named like one.
    static func target(ofEntry entry: String) -> String? {
        guard maker(ofEntry: entry) != nil, !entry.hasPrefix(legacySearchPrefix) else { return nil }
        let fields = entry.split(separator: "-", omittingEmptySubsequences: false)
        let stem = fields[..<(fields.count - 3)].joined(separator: "-")
        return String(stem.dropFirst().dropLast(".tmp".count))
    }

    private static let legacySearchPrefix = ".isomerge-search-"

    /// A positive process id written in decimal digits only, or nil.
    private static func processID(_ text: Substring) -> pid_t? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = pid_t(text), value > 0 else { return nil }
        return value
    }
}
