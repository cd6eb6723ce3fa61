/// An output written in full under a temporary name beside its destination and put in place
/// only by `publish(overwrite:)`, for a run with two outputs (a merge and its task vector): each
/// is finished before either appears, so a failure (a full disk, a non-finite value) or an
/// interruption while the other is written leaves both destinations as they were.
///
/// `path` is where to write (with `overwrite` allowed, the temporary being this run's own): for
/// a file destination `DIR/.NAME.tmp-…/NAME`, for a directory destination the new, empty
/// directory `DIR/.NAME.tmp-…` itself, so the output keeps its kind. Both are this process's
/// registered temporaries (`TemporaryDirectory`), removed on failure, interruption, `remove()` or
/// deinit; what dead processes left beside the destination is removed first (`StaleTemporaries`). Publishing follows `OutputTarget`'s rules and re-checks overwriting; the inputs rule
/// must have been checked on the destination before.
public final class StagedOutput {
    /// Where the output goes in the end.
    public let destination: String
    /// Where to write it now.
    public let path: String
    private let target: OutputTarget
    private let scratch: TemporaryDirectory

    public init(_ destination: String) throws(SafetensorsError) {
        self.destination = destination
        target = OutputTarget(destination)
        StaleTemporaries.sweep(directory: try target.temporariesDirectory())
        switch target.kind {
        case .file:
            scratch = try TemporaryDirectory(beside: destination)
            path = scratch.path + "/" + TemporaryName.split(target.path).name
        case .directory:
            scratch = try TemporaryDirectory(beside: try target.location())
            path = scratch.path
        }
    }

    deinit {
        remove()
    }

    /// Puts the finished output in place of the destination.
    public func publish(overwrite: Bool) throws(SafetensorsError) {
        switch target.kind {
        case .file:
            try target.publish(file: path, overwrite: overwrite)
            scratch.remove()
        case .directory:
            try target.publish(directory: scratch, overwrite: overwrite)
        }
    }

    /// Removes what was written (nothing once published).
    public func remove() {
        scratch.remove()
    }
}
