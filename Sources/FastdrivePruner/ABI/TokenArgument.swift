// TokenArgument.swift — a caller's fastdrive_tokens turned into a validated TokenView.

import CFastdrivePruner

extension TokenView {
    /// Validates the C view `t` (the parameter `name`, e.g. "tokens" or "frames[2]", labels the
    /// messages). The one place a fastdrive_tokens becomes a TokenView: score, score_batch and
    /// select all come through here. No allocation on success.
    init(_ t: fastdrive_tokens, name: @autoclosure () -> String) throws(PrunerError) {
        guard let data = t.data else { throw .invalidArgument("\(name())->data is NULL") }
        do {
            try self.init(base: data, dtype: Int32(bitPattern: t.dtype.rawValue), n: Int(t.n_tokens), dim: Int(t.dim),
                          rowStride: Int(t.row_stride), gridH: Int(t.grid_h), gridW: Int(t.grid_w))
        } catch {
            throw error.renamingTokens(name())
        }
    }
}

extension PrunerError {
    /// The same error, its message speaking of `name` where it said "tokens" (TokenView's and
    /// the model's checks name the single-frame parameter).
    func renamingTokens(_ name: String) -> PrunerError {
        guard name != "tokens" else { return self }
        return mapMessage { m in
            if m.hasPrefix("tokens->") || m.hasPrefix("tokens ") { return name + m.dropFirst("tokens".count) }
            return "\(name): \(m)"
        }
    }

    /// The same case with its message transformed.
    func mapMessage(_ f: (String) -> String) -> PrunerError {
        switch self {
        case .invalidArgument(let m): .invalidArgument(f(m))
        case .io(let m): .io(f(m))
        case .format(let m): .format(f(m))
        case .shape(let m): .shape(f(m))
        case .capacity(let m): .capacity(f(m))
        case .nonFinite(let m): .nonFinite(f(m))
        case .outOfMemory(let m): .outOfMemory(f(m))
        case .unsupported(let m): .unsupported(f(m))
        case .internalFailure(let m): .internalFailure(f(m))
        case .aborted(let m): .aborted(f(m))
        }
    }
}
