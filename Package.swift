// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "charter",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "UCAN", targets: ["UCAN"]),
        .executable(name: "charter", targets: ["charter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(
            name: "UCAN",
            dependencies: ["CSodium"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "charter",
            dependencies: [
                "UCAN",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "charter-bench",
            dependencies: ["UCAN", "CSodium"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UCANTests",
            dependencies: ["UCAN"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CharterCLITests",
            dependencies: ["UCAN"],
            swiftSettings: swiftSettings
        ),
    ]
)
