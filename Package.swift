// swift-tools-version:6.1
// Package.swift — fastdrive-pruner: ReconPruner inference behind a stable C ABI.
//
// The library product is the dynamic `libfastdrive_pruner.so`; its API is the C header in
// include/ (the Swift declarations are not API). No unsafe flags here, so the package stays
// usable as a dependency: CPU-specific code comes from the CKernels target's load-time dispatch.
import PackageDescription

let package = Package(
    name: "fastdrive-pruner",
    products: [
        .library(name: "fastdrive_pruner", type: .dynamic, targets: ["FastdrivePruner"]),
        .executable(name: "fastdrive-pruner", targets: ["FastdrivePrunerCLI"]),
    ],
    traits: [
        // Off by default: production builds have no benchmark code in the scoring path.
        .trait(name: "BenchHooks",
               description: "Compile the GEMM-only pass that `fastdrive-pruner bench` times to report the share of time outside GEMM."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The public header: the one definition of every ABI type, seen by Swift through this module.
        .target(name: "CFastdrivePruner", path: "include", publicHeadersPath: "."),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(
            name: "FastdrivePruner",
            dependencies: ["CFastdrivePruner", "COpenBLAS", "CKernels"],
            path: "Sources/FastdrivePruner",
            swiftSettings: [.define("FASTDRIVE_BENCH_HOOKS", .when(traits: ["BenchHooks"]))]
        ),
        // NumPy .npy reading and writing for the CLI and the tests (not part of the library).
        .target(name: "NPY", path: "Sources/NPY"),
        .executableTarget(
            name: "FastdrivePrunerCLI",
            dependencies: [
                "FastdrivePruner", "CFastdrivePruner", "NPY",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/fastdrive-pruner-cli",
            swiftSettings: [.define("FASTDRIVE_BENCH_HOOKS", .when(traits: ["BenchHooks"]))]
        ),
        .testTarget(
            name: "FastdrivePrunerTests",
            dependencies: ["FastdrivePruner", "CFastdrivePruner", "CKernels", "NPY"],
            path: "Tests/FastdrivePrunerTests"
        ),
    ]
)
