using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using MissionControl.InternalAuth;

namespace MissionControl.Testing;

/// <summary>
/// One service in-process, configured the way the AppHost configures it (connection strings, the
/// edge's verification key), so its tests go through HTTP exactly as the edge's calls do.
/// </summary>
/// <param name="services">Test replacements for services (e.g. a fake DNS resolver), applied after the service's own.</param>
public sealed class ServiceFactory<TProgram>(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    : WebApplicationFactory<TProgram>
    where TProgram : class
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting(InternalAuthExtensions.VerificationKeyConfig, TestTokens.VerificationKey);
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        if (services is not null) builder.ConfigureTestServices(services);
    }

    /// <summary>A client that calls as <paramref name="principal"/>, with a token signed like the edge's.</summary>
    public HttpClient ClientFor(McPrincipal principal)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", TestTokens.Sign(principal));
        return client;
    }
}

/// <summary>The edge's signing key for this test process, and principals to call with.</summary>
public static class TestTokens
{
    private static readonly (string Signing, string Verification) Keys = InternalKeys.Generate();
    private static readonly InternalTokenSigner Signer = new(Keys.Signing);

    public static string SigningKey => Keys.Signing;
    public static string VerificationKey => Keys.Verification;

    public static string Sign(McPrincipal principal) => Signer.Sign(principal);

    public static McPrincipal Owner(Guid organizationId, Guid? userId = null) => new()
    {
        Kind = PrincipalKind.User, Subject = (userId ?? Guid.NewGuid()).ToString(), OrganizationId = organizationId,
        Role = Roles.Owner, AllBoardsRead = true, AllBoardsWrite = true,
    };

    public static McPrincipal Member(Guid organizationId, params BoardGrant[] boards) => new()
    {
        Kind = PrincipalKind.User, Subject = Guid.NewGuid().ToString(), OrganizationId = organizationId,
        Role = Roles.Member, Boards = boards,
    };

    public static McPrincipal Service(string name = "edge") => new() { Kind = PrincipalKind.Service, Subject = name };
}
