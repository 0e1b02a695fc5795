using Microsoft.AspNetCore.DataProtection;

namespace MissionControl.Tasks.Operations;

/// <summary>
/// Inbound webhook secrets are needed in clear to check signatures, so they are encrypted at rest with
/// ASP.NET Core Data Protection (not hashed) and never returned by the API.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("MissionControl.Tasks.WebhookSecrets.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
