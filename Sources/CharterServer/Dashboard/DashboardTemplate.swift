import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The dashboard's mustache templates, in `Templates/` and compiled into the binary. Mustache escapes every
/// value it writes into a page, so nothing from the store or the request reaches the HTML unescaped.
enum DashboardTemplate: String, CaseIterable {
    case layout, csrf, notice
    case signIn = "sign-in", failure, home, apps, app, reveal, envelopes
    case signingKeys = "signing-keys", audit

    private var source: [UInt8] {
        switch self {
        case .layout: PackageResources.layout_mustache
        case .csrf: PackageResources.csrf_mustache
        case .notice: PackageResources.notice_mustache
        case .signIn: PackageResources.sign_in_mustache
        case .failure: PackageResources.failure_mustache
        case .home: PackageResources.home_mustache
        case .apps: PackageResources.apps_mustache
        case .app: PackageResources.app_mustache
        case .reveal: PackageResources.reveal_mustache
        case .envelopes: PackageResources.envelopes_mustache
        case .signingKeys: PackageResources.signing_keys_mustache
        case .audit: PackageResources.audit_mustache
        }
    }

    /// Every template, parsed once; each page template extends `layout` and uses the smaller ones as partials.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for template in allCases {
            do {
                try library.register(String(decoding: template.source, as: UTF8.self), named: template.rawValue)
            } catch {
                // The templates are part of the binary: one that does not parse is a build defect, which every
                // dashboard test would show at once.
                preconditionFailure("dashboard template \(template.rawValue) does not parse: \(error)")
            }
        }
        return library
    }()

    /// The page this template renders for `model`, under `title` and, for a signed-in caller, the navigation.
    func page(
        _ title: String, session: DashboardRoutes.Signed?, _ model: Any, status: HTTPResponse.Status = .ok
    ) -> Response {
        let layout = DashboardLayout(title: title, session: session.map(DashboardLayout.Session.init), page: model)
        return HTML.response(Self.library.render(layout, withTemplate: rawValue) ?? "", status: status)
    }
}

/// What the layout shows around every page; the page's own model is `page`, so its templates can reach both.
///
/// Mustache looks a name up through every enclosing model, and a nil value counts as absent, so no page
/// model has a member named `title`, `session` or `page`.
struct DashboardLayout {
    struct Session {
        struct Link {
            let name: String
            let href: String
        }

        let links: [Link]
        let organization: String
        let keyID: String
        let keyLabel: String
        let csrf: String

        init(_ signed: DashboardRoutes.Signed) {
            let identity = signed.identity
            links = [
                ("Apps", "/dashboard/apps", identity.has(.appsRead)),
                ("Envelopes", "/dashboard/envelopes", identity.has(.envelopesRead)),
                ("Signing keys", "/dashboard/signing-keys", identity.has(.signingKeysRead)),
                ("Audit log", "/dashboard/audit", identity.has(.auditRead)),
            ].filter(\.2).map { Link(name: $0.0, href: $0.1) }
            organization = identity.organization.name
            keyID = identity.key.id
            keyLabel = identity.key.label
            csrf = signed.csrf
        }
    }

    let title: String
    let session: Session?
    let page: Any
}
