// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "charter",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "UCAN", targets: ["UCAN"]),
        .library(name: "CharterCore", targets: ["CharterCore"]),
        .library(name: "CharterClient", targets: ["CharterClient"]),
        .library(name: "CharterVerifier", targets: ["CharterVerifier"]),
        .executable(name: "charter", targets: ["charter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
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
        .target(
            name: "CharterCore",
            dependencies: [
                "UCAN",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterStorage",
            dependencies: ["CharterCore", "UCAN"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterSQLite",
            dependencies: [
                "CharterCore",
                "CharterStorage",
                "UCAN",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterPostgres",
            dependencies: [
                "CharterCore",
                "CharterStorage",
                "UCAN",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterServer",
            dependencies: [
                "CharterCore",
                "UCAN",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.embedInCode("Dashboard/Templates"), .embedInCode("Dashboard/Assets")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterHTTP",
            dependencies: ["UCAN"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterClient",
            dependencies: ["UCAN", "CharterHTTP"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterVerifier",
            dependencies: [
                "UCAN",
                "CharterHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "example-agent",
            dependencies: ["CharterClient", "UCAN"],
            path: "Examples/Agent",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "example-service",
            dependencies: [
                "CharterVerifier", "UCAN",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Examples/Service",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "charter",
            dependencies: [
                "UCAN",
                "CharterCore",
                "CharterSQLite",
                "CharterPostgres",
                "CharterServer",
                "CharterVerifier",
                "CharterHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "charter-bench",
            dependencies: [
                "UCAN", "CSodium", "CharterCore", "CharterSQLite", "CharterPostgres", "CharterServer", "CharterClient",
                "CharterVerifier",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UCANTests",
            dependencies: ["UCAN"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CharterCoreTests",
            dependencies: ["CharterCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CharterStoreTests",
            dependencies: [
                "CharterCore", "CharterStorage", "CharterSQLite", "CharterPostgres", "CharterTestSupport", "UCAN",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CharterServerTests",
            dependencies: [
                "CharterCore", "CharterSQLite", "CharterServer", "UCAN",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CharterTestSupport",
            dependencies: [
                "CharterCore", "CharterSQLite", "CharterPostgres", "CharterServer", "UCAN",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CharterTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CharterVerifierTests",
            dependencies: [
                "CharterVerifier", "CharterTestSupport", "CharterCore", "CharterSQLite", "CharterServer", "UCAN",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CharterClientTests",
            dependencies: [
                "CharterClient", "CharterTestSupport", "CharterVerifier", "CharterCore", "CharterSQLite",
                "CharterServer", "UCAN",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CharterCLITests",
            dependencies: ["UCAN", "CharterTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
