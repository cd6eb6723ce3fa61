/// A mistake in how the command was called (exit status 2), with the text that says what to fix.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Parsed command-line arguments: `--flag value`, `--flag=value`, repeated or multi-valued flags
/// (`--models a b c`), boolean switches and positional arguments, checked against what a
/// command declares. `-h` is `--help` for commands that have it.
struct Arguments {
    private(set) var values: [String: [String]] = [:]
    private(set) var switches: Set<String> = []
    private(set) var positional: [String] = []

    /// Parses `arguments` for a command that accepts `options` (taking one or more values),
    /// `multiValued` options (taking every value up to the next flag) and boolean `flags`.
    init(_ arguments: [String], options: Set<String>, multiValued: Set<String> = [], flags: Set<String>) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            if argument == "-h" && flags.contains("help") {
                switches.insert("help")
                continue
            }
            guard argument.hasPrefix("--") && argument.count > 2 else {
                positional.append(argument)
                continue
            }
            var inline: String?
            if let equals = argument.firstIndex(of: "=") {
                inline = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            }
            let name = String(argument.dropFirst(2))
            if flags.contains(name) {
                guard inline == nil else { throw UsageError("--\(name) takes no value") }
                switches.insert(name)
            } else if options.contains(name) || multiValued.contains(name) {
                var taken: [String] = inline.map { [$0] } ?? []
                if inline == nil {
                    while index < arguments.count && !(arguments[index].hasPrefix("--") && arguments[index].count > 2) {
                        taken.append(arguments[index])
                        index += 1
                        if !multiValued.contains(name) { break }
                    }
                }
                guard !taken.isEmpty else { throw UsageError("--\(name) needs a value") }
                values[name, default: []] += taken
            } else {
                let known = (options.union(multiValued).union(flags)).sorted().map { "--" + $0 }.joined(separator: " ")
                throw UsageError("unknown option --\(name) (known: \(known))")
            }
        }
    }

    func has(_ flag: String) -> Bool { switches.contains(flag) }

    /// The single value of `option`, or nil; given twice is an error.
    func value(_ option: String) throws(UsageError) -> String? {
        guard let all = values[option] else { return nil }
        guard all.count == 1 else { throw UsageError("--\(option) given more than once") }
        return all[0]
    }

    func all(_ option: String) -> [String] { values[option] ?? [] }
}
