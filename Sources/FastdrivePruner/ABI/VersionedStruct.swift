// VersionedStruct.swift — reading and writing the caller's structs that begin with struct_size.

import CFastdrivePruner

/// A C struct whose first field is `uint32_t struct_size` and which grows only at its end: the
/// library reads or writes min(struct_size, its own size) bytes, so an older caller (smaller
/// struct) and a newer one (bigger struct) both work. The one implementation of that rule for
/// every such struct of the header.
protocol VersionedStruct {
    /// The zero value: every field's default.
    init()
    /// The C type name, for messages.
    static var cName: StaticString { get }
    /// The smallest struct_size accepted (the struct's size in the first release that had it).
    static var minimumSize: Int { get }
}

extension VersionedStruct {
    /// The caller's struct_size, checked against `minimumSize`; `name` is the parameter.
    static func declaredSize(_ p: UnsafeRawPointer, name: StaticString) throws(PrunerError) -> Int {
        let declared = Int(p.loadUnaligned(as: UInt32.self))
        guard declared >= minimumSize else {
            throw .invalidArgument("\(name)->struct_size = \(declared) is smaller than \(minimumSize) (set it to sizeof(\(cName)))")
        }
        return declared
    }

    /// Reads the caller's struct: its first min(struct_size, ours) bytes, defaults after them.
    /// No allocation.
    static func read(_ p: UnsafePointer<Self>, name: StaticString) throws(PrunerError) -> Self {
        let declared = try declaredSize(p, name: name)
        var value = Self()
        withUnsafeMutableBytes(of: &value) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: p, count: min(declared, dst.count)))
        }
        return value
    }

    /// Writes `self` into the caller's struct: bytes 4 ..< min(struct_size, ours), keeping the
    /// caller's struct_size (which says how much the caller has room for). No allocation.
    func write(to p: UnsafeMutablePointer<Self>, name: StaticString) throws(PrunerError) {
        let declared = try Self.declaredSize(p, name: name)
        var value = self
        withUnsafeBytes(of: &value) { src in
            let count = min(declared, src.count)
            UnsafeMutableRawPointer(p).advanced(by: 4)
                .copyMemory(from: src.baseAddress! + 4, byteCount: count - 4)
        }
    }
}

extension fastdrive_pruner_options: VersionedStruct {
    static var cName: StaticString { "fastdrive_pruner_options" }
    static var minimumSize: Int { 16 }
}

extension fastdrive_select_params: VersionedStruct {
    static var cName: StaticString { "fastdrive_select_params" }
    static var minimumSize: Int { 48 }
}

extension fastdrive_pruner_info: VersionedStruct {
    static var cName: StaticString { "fastdrive_pruner_info" }
    /// describe fills as little as the first field after struct_size (the header's ">= 8").
    static var minimumSize: Int { 8 }
}
