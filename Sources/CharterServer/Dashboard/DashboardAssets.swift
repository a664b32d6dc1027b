import HTTPTypes
import Hummingbird

/// The dashboard's one stylesheet and one script (in `Assets/`, compiled into the binary), served from memory:
/// no build step, no external asset.
enum DashboardAssets {
    static let css = String(decoding: PackageResources.dashboard_css, as: UTF8.self)
    static let javascript = String(decoding: PackageResources.dashboard_js, as: UTF8.self)

    static func response(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "\(type); charset=utf-8", .cacheControl: "public, max-age=300",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
