#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an output goes, and the one set of rules for writing there.
///
/// A path ending in `.safetensors` names a file; any other path names a directory that holds one
/// checkpoint (`model.safetensors`, or `model-…-of-….safetensors` shards with
/// `model.safetensors.index.json`), or, made with `adapter(directory:)`, one PEFT adapter
/// (`adapter_config.json` and `adapter_model.safetensors`): its output files. The rules, checked by `check` before anything is written:
/// - an existing output is replaced only when overwriting is allowed (for a directory: when it
///   holds checkpoint files);
/// - an output never replaces an input, overwriting allowed or not: not the same file (also
///   through symbolic or hard links, or as a shard of a sharded input), and no directory that
///   holds an input;
/// - a directory is replaced as a whole, so what it holds besides checkpoint files must be
///   carried over into the new one: regular files (hard-linked) and symbolic links (re-created);
///   anything else (a subdirectory) makes it unusable as an output.
///
/// Publishing (`publish(file:)`, `publish(directory:)`) puts a finished temporary in place with
/// one rename, or for an existing directory one atomic exchange (two renames where the file
/// system cannot exchange), then removes the old content; it re-checks the overwrite rule.
public struct OutputTarget: Sendable {
    public enum Kind: Sendable { case file, directory }

    /// The path as given, without trailing slashes (used in messages).
    public let path: String
    public let kind: Kind
    /// Whether the directory's output files are an adapter's rather than a checkpoint's.
    private var holdsAdapter = false

    /// The target `path` names: a file if it ends in `.safetensors`, a directory otherwise.
    public init(_ path: String) {
        self.init(path, kind: path.hasSuffix(".safetensors") ? .file : .directory)
    }

    /// A file target, whatever the name.
    init(file path: String) {
        self.init(path, kind: .file)
    }

    /// A directory that receives a PEFT adapter.
    public static func adapter(directory path: String) -> OutputTarget {
        var target = OutputTarget(path, kind: .directory)
        target.holdsAdapter = true
        return target
    }

    private init(_ path: String, kind: Kind) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.path = trimmed
        self.kind = kind
    }

    /// Whether the two would write over each other: the same path, or one inside the other
    /// (compared after resolving what exists of them).
    public func overlaps(_ other: OutputTarget) -> Bool {
        let (a, b) = (Self.absolute(path), Self.absolute(other.path))
        return a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/")
    }

    /// Checks every rule for writing here, for a run that reads `inputs`; throws naming the path
    /// and the rule broken.
    public func check(overwrite: Bool, inputs: [Checkpoint]) throws(SafetensorsError) {
        switch kind {
        case .file: try checkFile(overwrite: overwrite, inputs: inputs)
        case .directory: try checkDirectory(overwrite: overwrite, inputs: inputs)
        }
    }

    /// The directory where this target's temporaries go (and where stale ones are swept).
    public func temporariesDirectory() throws(SafetensorsError) -> String {
        TemporaryName.split(kind == .file ? path : try location()).directory
    }

    /// The absolute path the directory target is written to: the existing directory with links
    /// resolved, or a new name in an existing parent.
    func location() throws(SafetensorsError) -> String {
        if let existing = resolvedPath(path) { return existing }
        let (parent, name) = TemporaryName.split(path)
        guard let resolvedParent = resolvedPath(parent.isEmpty ? "." : parent) else {
            throw SafetensorsError(file: path, "cannot create the output directory: \(parent) does not exist")
        }
        return joined(resolvedParent, name)
    }

    private func checkFile(overwrite: Bool, inputs: [Checkpoint]) throws(SafetensorsError) {
        guard let identity = FileIdentity(path: path) else { return }
        if let input = Self.input(with: identity, among: inputs) {
            throw SafetensorsError(file: path, "already exists and is an input (\(input)); an output never replaces an input, "
                                   + "overwriting allowed or not")
        }
        if isDirectory(path) {
            throw SafetensorsError(file: path, "is a directory; a path ending in .safetensors names an output file")
        }
        if !overwrite { throw Self.alreadyExists(path) }
    }

    private func checkDirectory(overwrite: Bool, inputs: [Checkpoint]) throws(SafetensorsError) {
        let target = try checkHoldsNoInput(inputs)
        guard isDirectory(target) else { return }
        let contents = try Self.classify(directory: target, adapter: holdsAdapter)
        if let entry = contents.uncarriable.first {
            throw SafetensorsError(file: path, "holds \(entry), which is not a file of a checkpoint and cannot be kept when the "
                                   + "directory is replaced as a whole; move it, or choose another output directory")
        }
        if !contents.checkpoint.isEmpty && !overwrite {
            throw Self.alreadyExists(path + " (" + contents.checkpoint.sorted().joined(separator: ", ") + ")")
        }
    }

    /// The rules for a directory that the parts of a split merge fill side by side, each adding
    /// its own shard files (`PartWriter`): it holds no input, and holds no complete checkpoint
    /// (`model.safetensors`, or the index that a finished split merge writes last) unless
    /// overwriting is allowed. Other files, shards of unfinished parts included, stay.
    func check(shared overwrite: Bool, inputs: [Checkpoint]) throws(SafetensorsError) {
        let target = try checkHoldsNoInput(inputs)
        guard !overwrite else { return }
        for name in ["model.safetensors", CheckpointWriter.indexName] where fileExists(target + "/" + name) {
            throw Self.alreadyExists(path + " (" + name + ")")
        }
    }

    /// The directory-target rules about inputs: the target is a directory or absent, no input
    /// lies inside it, and no file in it is an input. Returns `location()`.
    private func checkHoldsNoInput(_ inputs: [Checkpoint]) throws(SafetensorsError) -> String {
        let target = try location()
        if fileExists(target) && !isDirectory(target) {
            throw SafetensorsError(file: path, "exists and is not a directory (a path not ending in .safetensors names an output directory)")
        }
        for input in inputs {
            for file in input.sourceFiles {
                let holder = TemporaryName.split(file).directory
                let holders = [resolvedPath(file), resolvedPath(holder.isEmpty ? "." : holder)]
                if holders.contains(where: { $0.map { $0 == target || $0.hasPrefix(target + "/") } ?? false }) {
                    throw SafetensorsError(file: path, "holds an input (\(file)); an output directory is replaced as a whole, "
                                           + "so it must not hold an input, overwriting allowed or not")
                }
            }
        }
        guard isDirectory(target) else { return target }
        let contents = try Self.classify(directory: target, adapter: holdsAdapter)
        let identities = Self.identities(of: inputs)
        for entry in contents.checkpoint + contents.carried {
            if let identity = FileIdentity(path: target + "/" + entry), identities[identity] != nil {
                throw SafetensorsError(file: path, "holds \(entry), which is an input (\(identities[identity]!)); an output directory "
                                       + "is replaced as a whole, so it must not hold an input, overwriting allowed or not")
            }
        }
        return target
    }

    /// Puts the finished temporary file `temporary` (registered, beside the target) in place.
    func publish(file temporary: String, overwrite: Bool) throws(SafetensorsError) {
        let registry = TemporaryRegistry.shared
        if !overwrite && fileExists(path) {
            registry.remove(temporary)
            throw Self.alreadyExists(path)
        }
        guard registry.publish(temporary, as: path) else {
            let message = systemError()
            registry.remove(temporary)
            throw SafetensorsError(file: path, "cannot rename the finished file into place: \(message)")
        }
        syncDirectory(of: path)
    }

    /// Puts the finished directory `staged` (made beside `location()`) in place of the target,
    /// carrying over what the old directory holds besides checkpoint files.
    func publish(directory staged: TemporaryDirectory, overwrite: Bool) throws(SafetensorsError) {
        let registry = TemporaryRegistry.shared
        let target = try location()
        guard isDirectory(target) else {
            syncDirectory(staged.path)
            guard registry.publish(staged.path, as: target) else {
                throw SafetensorsError(file: path, "cannot rename the finished directory into place: \(systemError())")
            }
            staged.disown()
            syncDirectory(of: target)
            return
        }
        let contents = try Self.classify(directory: target, adapter: holdsAdapter)
        if !contents.checkpoint.isEmpty && !overwrite { throw Self.alreadyExists(path) }
        if let entry = contents.uncarriable.first {
            throw SafetensorsError(file: path, "holds \(entry), which cannot be kept when the directory is replaced as a whole")
        }
        for entry in contents.carried {
            let (from, to) = (target + "/" + entry, staged.path + "/" + entry)
            var info = stat()
            let copied = lstat(from, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
                ? Self.symbolicLinkTarget(from).map { symlink($0, to) == 0 } ?? false
                : link(from, to) == 0
            if !copied {
                throw SafetensorsError(file: path, "cannot keep \(entry) in the new output directory: \(systemError())")
            }
        }
        var info = stat()
        if stat(target, &info) == 0 { chmod(staged.path, info.st_mode & 0o7777) }
        syncDirectory(staged.path)
        let aside = TemporaryName.candidate(beside: target, attempt: 0)
        guard let old = registry.replace(target, with: staged.path, aside: aside) else {
            throw SafetensorsError(file: path, "cannot put the finished directory in place: \(systemError())")
        }
        staged.disown()
        registry.remove(old)
        syncDirectory(of: target)
    }

    /// "already exists" for `what`.
    static func alreadyExists(_ what: String) -> SafetensorsError {
        SafetensorsError(file: what, "already exists (allow overwriting to replace it)")
    }

    /// Whether `name` is one of the files of an adapter directory as this tool writes it.
    static func isAdapterFile(_ name: String) -> Bool {
        name == LoRAAdapter.configName || name == LoRAAdapter.weightsName
    }

    /// Whether `name` is one of the files of a checkpoint directory as this tool writes it.
    static func isCheckpointFile(_ name: String) -> Bool {
        if name == "model.safetensors" || name == "model.safetensors.index.json" { return true }
        guard name.hasPrefix("model-"), name.hasSuffix(".safetensors") else { return false }
        let numbers = name.dropFirst("model-".count).dropLast(".safetensors".count).split(separator: "-", omittingEmptySubsequences: false)
        return numbers.count == 3 && numbers[1] == "of" && [numbers[0], numbers[2]].allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    /// A directory's entries: output files (replaced; an adapter's with `adapter`, else a checkpoint's),
    /// files and symbolic links that are carried over, and what cannot be (subdirectories, devices…).
    /// Temporaries are in none: they go with the old content.
    private static func classify(directory: String, adapter: Bool) throws(SafetensorsError)
        -> (checkpoint: [String], carried: [String], uncarriable: [String]) {
        guard let stream = opendir(directory) else {
            throw SafetensorsError(file: directory, "cannot list the directory: \(systemError())")
        }
        var result: (checkpoint: [String], carried: [String], uncarriable: [String]) = ([], [], [])
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." || TemporaryName.maker(ofEntry: name) != nil { continue }
            var info = stat()
            let kind = lstat(directory + "/" + name, &info) == 0 ? info.st_mode & S_IFMT : 0
            if (adapter ? isAdapterFile(name) : isCheckpointFile(name)) && kind == S_IFREG {
                result.checkpoint.append(name)
            } else if kind == S_IFREG || kind == S_IFLNK {
                result.carried.append(name)
            } else {
                result.uncarriable.append(name + (kind == S_IFDIR ? "/" : ""))
            }
        }
        closedir(stream)
        return result
    }

    /// The input (as given) each file identity of `inputs` belongs to.
    private static func identities(of inputs: [Checkpoint]) -> [FileIdentity: String] {
        var result: [FileIdentity: String] = [:]
        for input in inputs {
            for file in input.sourceFiles {
                if let identity = FileIdentity(path: file) { result[identity] = file == input.path ? file : "\(file) of \(input.path)" }
            }
        }
        return result
    }

    private static func input(with identity: FileIdentity, among inputs: [Checkpoint]) -> String? {
        identities(of: inputs)[identity]
    }

    /// What the symbolic link at `path` points to.
    private static func symbolicLinkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` made absolute, with the part that exists resolved.
    private static func absolute(_ path: String) -> String {
        if let resolved = resolvedPath(path) { return resolved }
        let (parent, name) = TemporaryName.split(path)
        return joined(absolute(parent.isEmpty ? "." : String(parent.dropLast(parent.count > 1 ? 1 : 0))), name)
    }
}

/// `directory/name` (for the root directory: `/name`).
private func joined(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}

/// fsyncs the directory `path` itself, so that what was made in it survives a crash.
func syncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
        fsync(fd)
        close(fd)
    }
}
