/// Everything a caller can ask of the control plane, and the permission each one demands: the one
/// authorization table. The server's endpoints (API and dashboard) name the action they perform, its
/// middleware decides from this table, and the services check the same entry again as defence in depth.
public enum Action: String, Sendable, Hashable, CaseIterable {
    case createApp, listApps, readApp
    case createKey, listKeys, readKey, updateKey, revokeKey, duplicateKey
    case readSelf
    case readAudit
    case createEnvelope, listEnvelopes, readEnvelope, revokeEnvelope
    case authorize, revokeToken
    case readSigningKeys, rotateSigningKey

    /// What the caller's key must hold; nil means any authenticated key.
    public var permission: Permission? {
        switch self {
        case .createApp: .appsWrite
        case .listApps, .readApp: .appsRead
        case .createKey, .updateKey, .revokeKey, .duplicateKey: .keysWrite
        case .listKeys, .readKey: .keysRead
        case .readSelf: nil
        case .readAudit: .auditRead
        case .createEnvelope, .revokeEnvelope: .envelopesWrite
        case .listEnvelopes, .readEnvelope: .envelopesRead
        case .authorize: .tokenAuthorize
        case .revokeToken: .tokensRevoke
        case .readSigningKeys: .signingKeysRead
        case .rotateSigningKey: .signingKeysRotate
        }
    }
}
