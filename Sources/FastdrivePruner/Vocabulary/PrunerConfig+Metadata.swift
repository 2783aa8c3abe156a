// PrunerConfig+Metadata.swift — the config as a weight file's __metadata__ spells it (docs/weight-file.md).

extension PrunerConfig {
    /// Reads and validates `__metadata__`: rules format-name, format-version and metadata-value of
    /// docs/weight-file.md, then config-consistent (`validate`). Unknown keys are ignored.
    package init(metadata: [(key: String, value: String)]) throws(PrunerError) {
        func value(_ key: String) -> String? { metadata.first { $0.key == key }?.value }
        guard let format = value("format") else { throw .format("missing metadata key 'format'") }
        guard format == Self.formatName else {
            throw .format("metadata 'format' is '\(format)', expected '\(Self.formatName)'")
        }
        guard let version = value("format_version") else { throw .format("missing metadata key 'format_version'") }
        guard version == Self.formatVersion else {
            throw .format("unsupported format_version '\(version)' (this runtime reads '\(Self.formatVersion)')")
        }
        func int(_ key: String, _ fallback: Int) throws(PrunerError) -> Int {
            guard let text = value(key) else { return fallback }
            guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let v = Int(text), v > 0 else {
                throw .format("metadata '\(key)' = '\(text)' is not a positive decimal integer")
            }
            return v
        }
        func real(_ key: String, _ fallback: Double) throws(PrunerError) -> Double {
            guard let text = value(key) else { return fallback }
            let allowed = "0123456789.eE+-".utf8
            guard !text.isEmpty, text.utf8.allSatisfy({ allowed.contains($0) }),
                  let v = Double(text), v.isFinite, v > 0 else {
                throw .format("metadata '\(key)' = '\(text)' is not a positive decimal number")
            }
            return v
        }
        hiddenSize = try int("hidden_size", hiddenSize)
        intermediateSize = try int("intermediate_size", intermediateSize)
        heads = try int("num_attention_heads", heads)
        kvHeads = try int("num_key_value_heads", kvHeads)
        headDim = try int("head_dim", headDim)
        rmsNormEps = try real("rms_norm_eps", rmsNormEps)
        ropeTheta = try real("rope_theta", ropeTheta)
        if let text = value("rope") {
            guard let mode = RoPEMode(name: text) else {
                throw .format("metadata 'rope' = '\(text)' is not one of none, 1d, mrope")
            }
            rope = mode
        }
        if let text = value("attention") {
            guard let mode = AttentionMode(name: text) else {
                throw .format("metadata 'attention' = '\(text)' is not bidirectional or causal")
            }
            attention = mode
        }
        if let text = value("mrope_section") {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            let numbers = parts.compactMap { part -> Int? in
                let t = part.trimmingSpaces
                guard !t.isEmpty, t.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
                return Int(t)
            }
            guard parts.count == 3, numbers.count == 3 else {
                throw .format("metadata 'mrope_section' = '\(text)' is not three comma-separated integers")
            }
            mropeSection = numbers
        }
        try validate()
    }

    /// The `__metadata__` a weight file with this config carries.
    package var metadata: [(key: String, value: String)] {
        [("format", Self.formatName), ("format_version", Self.formatVersion),
         ("hidden_size", "\(hiddenSize)"), ("intermediate_size", "\(intermediateSize)"),
         ("num_attention_heads", "\(heads)"), ("num_key_value_heads", "\(kvHeads)"),
         ("head_dim", "\(headDim)"), ("rms_norm_eps", "\(rmsNormEps)"), ("rope_theta", "\(ropeTheta)"),
         ("rope", rope.name), ("mrope_section", mropeSection.map(String.init).joined(separator: ",")),
         ("attention", attention.name)]
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
