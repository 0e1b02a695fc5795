using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace MissionControl.GatewayBridge.OpenClaw;

/// <summary>
/// An Ed25519 device key for the gateway handshake. The gateway identifies a device by its key, and
/// pairing belongs to the device, so keep the key in a persistent file: a new key is a new device that
/// must be paired again.
/// </summary>
public sealed class DeviceIdentity
{
    private readonly Ed25519PrivateKeyParameters _privateKey;

    private DeviceIdentity(byte[] seed)
    {
        _privateKey = new Ed25519PrivateKeyParameters(seed);
        PublicKey = _privateKey.GeneratePublicKey().GetEncoded();
        DeviceId = Convert.ToHexStringLower(SHA256.HashData(PublicKey));
    }

    /// <summary>Lowercase hex SHA-256 of the raw 32-byte public key (<c>device.id</c>).</summary>
    public string DeviceId { get; }

    /// <summary>The raw 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary><c>device.publicKey</c>: the raw key, base64url without padding.</summary>
    public string PublicKeyBase64Url => Base64Url(PublicKey);

    public static DeviceIdentity Create() => new(RandomNumberGenerator.GetBytes(32));

    /// <summary>From a 32-byte Ed25519 seed (private key).</summary>
    public static DeviceIdentity FromSeed(ReadOnlySpan<byte> seed) =>
        seed.Length == 32 ? new(seed.ToArray()) : throw new ArgumentException("An Ed25519 seed is 32 bytes.", nameof(seed));

    /// <summary>
    /// Reads the key file at <paramref name="path"/>, or creates a new key there (mode 0600, written to a
    /// temporary file first so a crash never leaves half a key).
    /// </summary>
    public static DeviceIdentity LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return Load(path);
        }
        var identity = Create();
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var json = new JsonObject
        {
            ["version"] = 1,
            ["algorithm"] = "ed25519",
            ["deviceId"] = identity.DeviceId,
            ["publicKey"] = identity.PublicKeyBase64Url,
            ["privateKey"] = Base64Url(identity._privateKey.GetEncoded()),
        }.ToJsonString();
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(json));
            stream.Flush(flushToDisk: true);
        }
        try
        {
            // No overwrite: when another process created the key meanwhile, that one wins and we load it.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return Load(path);
        }
        return identity;
    }

    private static DeviceIdentity Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var seed = document.RootElement.GetProperty("privateKey").GetString()
            ?? throw new InvalidDataException($"{path}: no privateKey");
        return FromSeed(FromBase64Url(seed));
    }

    /// <summary>
    /// The v3 string the device signs:
    /// <c>v3|deviceId|clientId|clientMode|role|scopes(comma-joined, in the order sent)|signedAtMs|token|nonce|platform|deviceFamily</c>,
    /// platform and deviceFamily trimmed and ASCII-lowercased; token is auth.token, else auth.deviceToken, else empty.
    /// </summary>
    public static string BuildSignaturePayload(string deviceId, string clientId, string clientMode, string role, IEnumerable<string> scopes,
        long signedAtMs, string? token, string nonce, string? platform, string? deviceFamily) =>
        string.Join('|',
            "v3", deviceId, clientId, clientMode, role, string.Join(',', scopes), signedAtMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            token ?? "", nonce, LowerAscii(platform), LowerAscii(deviceFamily));

    /// <summary>Ed25519 signature of the UTF-8 bytes of <paramref name="payload"/>.</summary>
    public byte[] Sign(string payload)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        var signer = new Ed25519Signer();
        signer.Init(true, _privateKey);
        signer.BlockUpdate(bytes, 0, bytes.Length);
        return signer.GenerateSignature();
    }

    public bool Verify(string payload, byte[] signature)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        var verifier = new Ed25519Signer();
        verifier.Init(false, new Ed25519PublicKeyParameters(PublicKey));
        verifier.BlockUpdate(bytes, 0, bytes.Length);
        return verifier.VerifySignature(signature);
    }

    /// <summary>
    /// The <c>device</c> object of <c>connect</c> for the challenge <paramref name="nonce"/>/<paramref name="challengeTs"/>
    /// (signedAt is the challenge's ts).
    /// </summary>
    public JsonObject BuildDeviceObject(string clientId, string clientMode, string role, IEnumerable<string> scopes,
        long challengeTs, string? token, string nonce, string? platform, string? deviceFamily)
    {
        var payload = BuildSignaturePayload(DeviceId, clientId, clientMode, role, scopes, challengeTs, token, nonce, platform, deviceFamily);
        return new JsonObject
        {
            ["id"] = DeviceId,
            ["publicKey"] = PublicKeyBase64Url,
            ["signature"] = Base64Url(Sign(payload)),
            ["signedAt"] = challengeTs,
            ["nonce"] = nonce,
        };
    }

    private static string LowerAscii(string? value)
    {
        var trimmed = (value ?? "").Trim();
        return string.Create(trimmed.Length, trimmed, (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = char.IsAsciiLetterUpper(s[i]) ? (char)(s[i] + 32) : s[i];
            }
        });
    }

    internal static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    internal static byte[] FromBase64Url(string text) => System.Buffers.Text.Base64Url.DecodeFromChars(text);
}
